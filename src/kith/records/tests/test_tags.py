"""Tags: one table of (record, tag); the CLI, the API, lists and counts, privacy."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record
from kith.core.errors import NotFound, ValidationError
from kith.core.models import Change
from kith.core.viewer import SYSTEM
from kith.dedupe.services import merge_records, unmerge
from kith.records import selectors
from kith.records.models import Record, Tag
from kith.records.services import delete_record
from kith.records.tags import add_tag, remove_tag, split_tags, tag_records, untag_records
from kith.server.tests.conftest import make_caller
from kith.testing import make_org, make_person


def test_a_tag_is_kept_once_whatever_its_case_with_history() -> None:
    ann = make_person("Ann", email="ann@x.test")
    _, added = add_tag(ref=ann.id, tag="  Investor ")
    assert added
    _, again = add_tag(ref=ann.id, tag="INVESTOR")
    assert not again
    add_tag(ref="ann@x.test", tag="vip")
    assert selectors.record_detail(ann)["tags"] == ["Investor", "vip"]
    ann.refresh_from_db()
    assert ann.version == 3  # created, then two real changes
    changes = list(
        Change.objects.filter(entity_id=ann.id, field="tags").order_by("id").values("old", "new")
    )
    assert changes == [
        {"old": [], "new": ["Investor"]},
        {"old": ["Investor"], "new": ["Investor", "vip"]},
    ]
    _, removed = remove_tag(ref=ann.id, tag="investor")
    assert removed and selectors.record_detail(ann)["tags"] == ["vip"]
    _, removed = remove_tag(ref=ann.id, tag="investor")
    assert not removed


@pytest.mark.parametrize("bad", ["", "   ", "a,b", "x" * 41])
def test_a_bad_tag_is_refused_naming_it_and_changes_nothing(bad: str) -> None:
    ann = make_person("Ann")
    with pytest.raises(ValidationError) as info:
        tag_records(records=[ann], tags=["fine", bad])
    assert info.value.message.startswith("tag: ")
    assert not Tag.objects.exists()


def test_split_tags_reads_importers_cells() -> None:
    assert split_tags("* myContacts ::: Friends ::: friends") == ["* myContacts", "Friends"]
    assert split_tags("VIP; Board,  Golf ") == ["VIP", "Board", "Golf"]
    assert split_tags("") == []


def test_many_records_in_one_call_and_counts() -> None:
    people = [make_person(f"P{i}") for i in range(5)]
    acme = make_org("Acme")
    assert tag_records(records=[*people, acme], tags=["lead", "2026"]) == 12
    assert tag_records(records=people[:2], tags=["lead"]) == 0
    assert untag_records(records=people[3:], tags=["lead"]) == 2
    assert selectors.tag_counts(SYSTEM) == [
        {"tag": "2026", "count": 6},
        {"tag": "lead", "count": 4},
    ]
    assert selectors.tag_counts(SYSTEM, type_key="organization") == [
        {"tag": "2026", "count": 1},
        {"tag": "lead", "count": 1},
    ]
    delete_record(ref=acme.id)  # deleted records count for nothing
    assert selectors.tag_counts(SYSTEM)[0] == {"tag": "2026", "count": 5}
    ids = {r["id"] for r in selectors.list_records(SYSTEM, tag="LEAD")}
    assert ids == {p.id for p in people[:3]}


def test_a_private_record_leaks_through_no_tag_read() -> None:
    owner = make_caller("owner@our.test", "member")
    make_caller("other@our.test", "member")
    me, them = get_user("owner@our.test"), get_user("other@our.test")
    secret = add_owned_record(user=me, private=True, type_key="person", name="Secret Sam")
    shared = make_person("Open Olga")
    tag_records(records=[secret], tags=["whale"])
    tag_records(records=[secret, shared], tags=["lead"])
    other = viewer_of(them)
    assert selectors.tag_counts(other) == [{"tag": "lead", "count": 1}]  # no "whale" at all
    assert {r["tag"] for r in selectors.tag_counts(viewer_of(me))} == {"lead", "whale"}
    assert [r["id"] for r in selectors.list_records(other, tag="lead")] == [shared.id]
    assert selectors.list_records(other, tag="whale") == []
    with pytest.raises(NotFound):
        add_tag(ref=secret.id, tag="x", by=other)  # answered like a missing record
    with pytest.raises(NotFound):
        remove_tag(ref=secret.id, tag="lead", by=other)
    assert selectors.tags_of([secret.id]) == {secret.id: ["lead", "whale"]}
    assert owner.email == "owner@our.test"


def test_cli_tag_add_remove_tags_and_list_by_tag(cli: Any) -> None:
    ann = make_person("Ann", email="ann@x.test")
    make_person("Bob", email="bob@x.test")
    code, out, err = cli("tag", "add", "ann@x.test", "VIP", "--json")
    assert code == 0, err
    assert json.loads(out) == {"id": ann.id, "name": "Ann", "tags": ["VIP"], "changed": True}
    code, out, _ = cli("tag", "add", "Ann", "vip")
    assert (code, out.strip()) == (0, f"Ann ({ann.id}) already has tag 'vip'")
    code, out, _ = cli("list", "--tag", "vip", "--json")
    assert [r["id"] for r in json.loads(out)] == [ann.id]
    code, out, _ = cli("tags", "--json")
    assert json.loads(out) == [{"tag": "VIP", "count": 1}]
    code, out, _ = cli("tags")
    assert "VIP" in out and "1" in out
    code, _, err = cli("tag", "add", "Ann", "a,b")
    assert code == 1 and err.strip().startswith("error: tag: 'a,b': a tag has no commas")
    code, _, err = cli("tag", "add", "Nobody", "x")
    assert code == 1 and "error:" in err and "Traceback" not in err
    code, out, _ = cli("tag", "remove", ann.id, "VIP")
    assert code == 0 and out.strip() == f"removed 'VIP' from Ann ({ann.id})"
    assert json.loads(cli("tags", "--json")[1]) == []


def test_api_tags_respect_privacy() -> None:
    owner = make_caller("owner@our.test", "member")
    other = make_caller("other@our.test", "member")
    viewer = make_caller("viewer@our.test", "viewer")
    code, body = owner.call("POST", "/records", {"type": "person", "name": "Pat", "private": True})
    assert code == 201, body
    pat = body["id"]
    code, body = owner.call("POST", f"/records/{pat}/tags", {"tag": "Hot lead"})
    assert (code, body["tags"]) == (200, ["Hot lead"])
    assert owner.call("GET", "/tags")[1] == [{"tag": "Hot lead", "count": 1}]
    assert other.call("GET", "/tags")[1] == []
    assert other.call("POST", f"/records/{pat}/tags", {"tag": "x"})[0] == 404
    assert other.call("DELETE", f"/records/{pat}/tags/Hot lead")[0] == 404
    assert viewer.call("POST", f"/records/{pat}/tags", {"tag": "x"})[0] == 403
    assert other.call("GET", "/records", tag="hot lead")[1]["items"] == []
    assert [r["id"] for r in owner.call("GET", "/records", tag="hot lead")[1]["items"]] == [pat]
    code, body = owner.call("POST", f"/records/{pat}/tags", {"tag": "a,b"})
    assert code == 422 and "no commas" in json.dumps(body)
    code, body = owner.call("DELETE", f"/records/{pat}/tags/hot lead")
    assert (code, body["tags"]) == (200, [])
    assert Record.objects.get(pk=pat).version == 3


def test_a_merge_keeps_both_records_tags_once_and_unmerge_gives_them_back() -> None:
    keep, other = make_person("Kim Lee"), make_person("Kim  Lee")
    tag_records(records=[keep], tags=["vip"])
    tag_records(records=[other], tags=["VIP", "board"])
    merge_records(keep=keep.id, other=other.id)
    assert selectors.tags_of([keep.id, other.id]) == {keep.id: ["board", "vip"]}
    unmerge(ref=other.id)
    assert selectors.tags_of([keep.id, other.id]) == {
        keep.id: ["vip"],
        other.id: ["board", "VIP"],
    }
