"""Bulk actions and exports of a list or a selection: one transaction, privacy in the query."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user, create_token
from kith.core.errors import KithError
from kith.core.models import AuditEvent
from kith.core.viewer import SYSTEM
from kith.lists.exports import export_chunks, export_xlsx
from kith.lists.services import bulk_action, save_view
from kith.records.models import Record
from kith.records.selectors import tags_of
from kith.records.services import add_record, define_type
from kith.testing import make_org, make_person

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_RATE_LIMIT", "0")


def _user(email: str, role: str = "member") -> tuple[Any, str]:
    add_user(email=email, role=role, password=PASSWORD)
    _, token = create_token(email=email)
    return get_user(email), token


def _api(token: str, method: str, path: str, body: Any = None, **query: Any) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if method == "GET":
        return Client().get(f"/api/v1{path}", query, **headers)
    return Client().generic(
        method, f"/api/v1{path}", json.dumps(body), content_type="application/json", **headers
    )


@pytest.fixture
def world() -> dict[str, Any]:
    acme = make_org("Acme", domains=("acme.test",))
    people = [make_person(f"Ann {i}", email=f"ann{i}@acme.test", org=acme) for i in range(3)]
    bob = make_person("Bob Other", email="bob@else.test")
    me, _ = _user("owner@our.test")
    secret = add_owned_record(
        user=me, private=True, type_key="person", name="Ann Secret", emails=["s@acme.test"]
    )
    return {"acme": acme, "people": people, "bob": bob, "me": me, "secret": secret}


def test_tag_a_whole_filtered_list_then_a_selection(world: dict[str, Any]) -> None:
    other, _ = _user("other@our.test")
    who = viewer_of(other)
    done = bulk_action(
        viewer=who, type_key="person", params={"q": ["ann"]}, action="tag", value="Q3"
    )
    assert done["records"] == 3 and done["changed"] == 3  # not the private Ann
    assert world["secret"].id not in done["ids"]
    first = world["people"][0].id
    done = bulk_action(
        viewer=who,
        type_key="person",
        params={"tag": ["q3"]},
        ids=[first],
        action="untag",
        value="Q3",
    )
    assert done["ids"] == [first]
    assert tags_of(r.id for r in [*world["people"], world["secret"]]) == {
        p.id: ["Q3"] for p in world["people"][1:]
    }
    assert AuditEvent.objects.filter(action="bulk.tag").count() == 1


def test_a_selection_reaching_past_the_list_is_refused(world: dict[str, Any]) -> None:
    other, _ = _user("other@our.test")
    for ids in ([world["secret"].id], [world["bob"].id], ["nope"]):  # hidden, filtered, missing
        with pytest.raises(KithError) as info:
            bulk_action(
                viewer=viewer_of(other), type_key="person", params={"q": ["ann"]},
                ids=[world["people"][0].id, *ids], action="tag", value="x",
            )  # fmt: skip
        assert info.value.message == f"ids: {ids[0]!r} is not in this list"
    assert not tags_of(Record.objects.values_list("id", flat=True))


def test_a_failed_set_names_the_record_and_changes_nothing(world: dict[str, Any]) -> None:
    define_type(key="vendor", fields=["tier:choice:gold|silver", "score:number"])
    a = add_record(type_key="vendor", name="Alpha")
    b = add_record(type_key="vendor", name="Beta")
    with pytest.raises(KithError) as info:
        bulk_action(
            viewer=SYSTEM, type_key="vendor", params={}, action="set", field="score", value="lots"
        )
    assert info.value.message.startswith("Alpha (") and "score" in info.value.message
    done = bulk_action(
        viewer=SYSTEM, type_key="vendor", params={}, action="set", field="tier", value="gold"
    )
    assert done["changed"] == 2
    assert {r.fields.get("tier") for r in Record.objects.filter(pk__in=[a.pk, b.pk])} == {"gold"}
    bulk_action(viewer=SYSTEM, type_key="vendor", params={}, action="tag", value="ok")
    with pytest.raises(KithError):
        bulk_action(
            viewer=SYSTEM, type_key="vendor", params={}, action="set", field="tier", value="bronze"
        )
    assert {r.fields.get("tier") for r in Record.objects.filter(pk__in=[a.pk, b.pk])} == {"gold"}
    with pytest.raises(KithError) as bad:
        bulk_action(viewer=SYSTEM, type_key="vendor", params={"band": ["good"]}, action="delete")
    assert bad.value.message.startswith("band:")
    done = bulk_action(viewer=SYSTEM, type_key="vendor", params={"tag": ["ok"]}, action="delete")
    assert done["records"] == 2
    assert Record.objects.filter(type_id="vendor", deleted_at__isnull=True).count() == 0


def test_owner_only_an_admin_gives_a_private_record_away(world: dict[str, Any]) -> None:
    me = world["me"]
    other, _ = _user("other@our.test")
    boss, _ = _user("boss@our.test", "admin")
    done = bulk_action(
        viewer=viewer_of(other), type_key="person", params={"q": ["ann"]}, action="owner",
        value="other@our.test",
    )  # fmt: skip
    assert done["changed"] == 3
    assert set(Record.objects.filter(owner=other).values_list("id", flat=True)) == {
        p.id for p in world["people"]
    }
    with pytest.raises(KithError) as info:
        bulk_action(
            viewer=viewer_of(me),
            type_key="person",
            params={"q": ["secret"]},
            action="owner",
            value="other@our.test",
        )
    assert "only an admin can give it away" in info.value.message
    with pytest.raises(KithError) as info:
        bulk_action(
            viewer=viewer_of(me),
            type_key="person",
            params={},
            action="owner",
            value="ghost@our.test",
        )
    assert info.value.message == "value: no user 'ghost@our.test'"
    bulk_action(
        viewer=viewer_of(boss),
        type_key="person",
        params={"q": ["secret"]},
        action="owner",
        value="other@our.test",
    )
    assert Record.objects.get(pk=world["secret"].pk).owner_id == other.pk


def test_exports_are_what_the_list_shows_the_viewer(world: dict[str, Any]) -> None:
    other, _ = _user("other@our.test")
    who, mine = viewer_of(other), viewer_of(world["me"])
    bulk_action(viewer=SYSTEM, type_key="person", params={}, action="tag", value="Lead")
    text = "".join(export_chunks(who, "person", {"q": ["ann"]}, fmt="csv"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["Name"] for r in rows) == ["Ann 0", "Ann 1", "Ann 2"]
    assert {r["Organization"] for r in rows} == {"Acme"} and {r["Tags"] for r in rows} == {"Lead"}
    text = "".join(export_chunks(mine, "person", {"q": ["ann"]}, fmt="csv"))
    assert "Ann Secret" in text  # its owner sees it
    cards = "".join(export_chunks(who, "person", {"tag": ["lead"]}, fmt="vcard"))
    assert cards.count("BEGIN:VCARD") == 4 and "Secret" not in cards
    assert "CATEGORIES:Lead" in cards
    out, n = export_xlsx(who, "person", {}, ids=[world["bob"].id])
    sheet = load_workbook(out, read_only=True).active
    assert n == 1 and [c.value for c in next(sheet.iter_rows(min_row=2))][:2] == [
        "Bob Other",
        "bob@else.test",
    ]


def test_api_bulk_and_export_of_a_saved_view(world: dict[str, Any]) -> None:
    other, token = _user("other@our.test")
    _, viewer_token = _user("viewer@our.test", "viewer")
    view = save_view(viewer=viewer_of(other), type_key="person", name="Anns", query={"q": ["ann"]})
    resp = _api(
        token, "POST", "/lists/person/bulk", {"action": "tag", "value": "vip", "view": view.id}
    )
    assert resp.status_code == 200, resp.content
    assert json.loads(resp.content)["records"] == 3
    resp = _api(viewer_token, "POST", "/lists/person/bulk", {"action": "tag", "value": "x"})
    assert resp.status_code == 403
    resp = _api(token, "POST", "/lists/person/bulk", {"action": "explode"})
    assert resp.status_code == 422 and "action: 'explode' is not one of" in resp.content.decode()
    resp = _api(token, "GET", "/lists/person/export", format="csv", view=str(view.id))
    assert resp.status_code == 200 and resp["Content-Disposition"].startswith("attachment;")
    body = b"".join(resp.streaming_content).decode()
    assert body.count("\n") == 4 and "Secret" not in body
    resp = _api(viewer_token, "GET", "/lists/person/export", format="csv", view=str(view.id))
    assert resp.status_code == 404  # another user's saved view
    resp = _api(viewer_token, "GET", "/lists/person/export", format="xlsx", tag="vip")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(resp.streaming_content)), read_only=True).active
    assert sorted(r[0] for r in sheet.iter_rows(min_row=2, values_only=True)) == [
        "Ann 0",
        "Ann 1",
        "Ann 2",
    ]
    resp = _api(token, "GET", "/lists/person/export", format="pdf")
    assert resp.status_code == 422 and "format: 'pdf'" in resp.content.decode()


def test_cli_bulk_tag_set_delete_and_export(world: dict[str, Any], cli: Any, tmp_path: Any) -> None:
    code, out, err = cli("bulk", "tag", "Q4", "--search", "ann", "--json")
    assert code == 0, err
    assert json.loads(out)["records"] == 4  # the CLI is the system: the private Ann too
    other, _ = _user("other@our.test")
    code, out, _ = cli("bulk", "untag", "q4", "--tag", "Q4", "--user", "other@our.test")
    assert (code, out.strip()) == (0, "untag: 3 person records, 3 changed")
    assert tags_of([world["secret"].id]) == {world["secret"].id: ["Q4"]}
    code, _, err = cli("bulk", "set", "x", "--field", "nope", "--tag", "Q4")
    assert code == 1 and err.startswith("error: Ann Secret (") and "nope" in err
    code, _, err = cli("bulk", "tag", "x", "--id", world["bob"].id, "--search", "ann")
    assert code == 1 and err.strip() == f"error: ids: {world['bob'].id!r} is not in this list"
    save_view(viewer=viewer_of(other), type_key="person", name="Everyone", query={})
    code, out, _ = cli("bulk", "export", "--view", "Everyone", "--user", "other@our.test")
    names = sorted(r["Name"] for r in csv.DictReader(io.StringIO(out)))
    assert code == 0 and names == ["Ann 0", "Ann 1", "Ann 2", "Bob Other"]
    target = tmp_path / "people.xlsx"
    code, out, _ = cli("bulk", "export", "--format", "xlsx", "--out", str(target), "--json")
    assert code == 0 and json.loads(out) == {"file": str(target), "records": 5}
    assert len(list(load_workbook(target, read_only=True).active.iter_rows())) == 6
    code, _, err = cli("bulk", "export", "--format", "xlsx")
    assert (code, err.strip()) == (1, "error: --out: an xlsx export needs a file to write")
    code, out, _ = cli("bulk", "delete", "--id", world["bob"].id)
    assert code == 0 and Record.objects.get(pk=world["bob"].pk).deleted_at is not None
