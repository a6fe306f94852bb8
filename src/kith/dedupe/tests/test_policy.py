"""One merge/undo policy for the CLI, the API and the web (kith.dedupe.services)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from kith.accounts.selectors import get_user
from kith.dedupe.models import Merge
from kith.records.models import Record
from kith.server.tests.conftest import Caller, make_caller


@pytest.fixture(autouse=True)
def _no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_RATE_LIMIT", "0")


def _web(email: str) -> Client:

    client = Client()
    client.force_login(get_user(email))
    return client


def _record(caller: Caller, name: str, *, private: bool = False) -> dict[str, Any]:
    code, body = caller.call("POST", "/records", {"name": name, "private": private})
    assert code == 201, body
    return body


def test_api_refuses_merging_a_shared_record_into_a_private_one() -> None:
    alice, bob = make_caller("alice@our.test", "member"), make_caller("bob@our.test", "member")
    shared = _record(bob, "Jane Doe")
    mine = _record(alice, "Jane D.", private=True)
    code, body = alice.call("POST", "/merges", {"keep": mine["id"], "other": shared["id"]})
    assert code == 409 and "merging would hide it" in body["message"]
    assert not Merge.objects.exists()
    code, seen = bob.call("GET", f"/records/{shared['id']}")
    assert code == 200 and seen["merged_into"] is None and seen["deleted_at"] is None
    # the other way round is fine: the private record goes into the shared one
    code, done = alice.call("POST", "/merges", {"keep": shared["id"], "other": mine["id"]})
    assert code == 200, done
    assert Record.objects.get(pk=mine["id"]).merged_into == shared["id"]


def test_web_refuses_merging_a_shared_record_into_a_private_one() -> None:
    alice, bob = make_caller("alice@our.test", "member"), make_caller("bob@our.test", "member")
    shared = _record(bob, "Jane Doe")
    mine = _record(alice, "Jane D.", private=True)
    resp = _web("alice@our.test").post(
        "/duplicates/merge", {"keep": mine["id"], "other": shared["id"]}
    )
    assert resp.status_code == 409 and "merging would hide it" in resp.content.decode()
    assert not Merge.objects.exists()
    assert Record.objects.get(pk=shared["id"]).merged_into is None


def test_private_records_of_two_owners_do_not_merge() -> None:
    admin = make_caller("admin@our.test", "admin")
    alice, bob = make_caller("alice@our.test", "member"), make_caller("bob@our.test", "member")
    a = _record(alice, "Jane Doe", private=True)
    b = _record(bob, "Jane D.", private=True)
    code, body = admin.call("POST", "/merges", {"keep": a["id"], "other": b["id"]})
    assert code == 409 and "its owner sees it" in body["message"]
    c = _record(alice, "Jane E.", private=True)
    assert alice.call("POST", "/merges", {"keep": a["id"], "other": c["id"]})[0] == 200


def _merged(by: Caller) -> str:
    keep, other = _record(by, "Jane Doe"), _record(by, "Jane D.")
    code, done = by.call("POST", "/merges", {"keep": keep["id"], "other": other["id"]})
    assert code == 200, done
    return str(done["id"])


def test_api_undo_follows_the_policy_admin_any_member_their_own() -> None:
    admin = make_caller("admin@our.test", "admin")
    alice, bob = make_caller("alice@our.test", "member"), make_caller("bob@our.test", "member")
    viewer = make_caller("viewer@our.test", "viewer")
    first, second = _merged(alice), _merged(alice)
    assert viewer.call("POST", f"/merges/{first}/undo")[0] == 403
    code, body = bob.call("POST", f"/merges/{first}/undo")
    assert code == 403 and "an admin can undo it" in body["message"]
    assert alice.call("POST", f"/merges/{first}/undo")[0] == 200  # was: admins only
    assert admin.call("POST", f"/merges/{second}/undo")[0] == 200
    assert Merge.objects.filter(undone_at__isnull=True).count() == 0


def test_web_undo_follows_the_same_policy() -> None:
    make_caller("admin@our.test", "admin")
    alice, _ = make_caller("alice@our.test", "member"), make_caller("bob@our.test", "member")
    first, second = _merged(alice), _merged(alice)
    resp = _web("bob@our.test").post(f"/duplicates/merges/{first}/undo")
    assert resp.status_code == 403
    assert _web("alice@our.test").post(f"/duplicates/merges/{first}/undo").status_code == 302
    assert _web("admin@our.test").post(f"/duplicates/merges/{second}/undo").status_code == 302
    assert Merge.objects.filter(undone_at__isnull=True).count() == 0


def test_a_merge_of_a_hidden_record_is_not_found_to_undo() -> None:
    alice, bob = make_caller("alice@our.test", "member"), make_caller("bob@our.test", "member")
    keep, other = _record(alice, "Jane Doe", private=True), _record(alice, "J. Doe", private=True)
    code, done = alice.call("POST", "/merges", {"keep": keep["id"], "other": other["id"]})
    assert code == 200
    assert bob.call("POST", f"/merges/{done['id']}/undo")[0] == 404
    assert bob.call("POST", f"/merges/{other['id']}/undo")[0] == 404
    assert Merge.objects.get().undone_at is None


def test_a_record_holding_a_teammates_merged_record_cannot_turn_private() -> None:
    alice, bob = make_caller("alice@our.test", "member"), make_caller("bob@our.test", "member")
    mine, theirs = _record(alice, "Jane Doe"), _record(bob, "Jane D.")
    code, _ = alice.call("POST", "/merges", {"keep": mine["id"], "other": theirs["id"]})
    assert code == 200
    code, body = alice.call("PATCH", f"/records/{mine['id']}", {"private": True})
    assert code == 409 and theirs["id"] in body["message"]
    assert Record.objects.get(pk=mine["id"]).private is False
    code, seen = bob.call("GET", f"/records/{theirs['id']}")
    assert code == 200 and seen["merged_into"] == mine["id"]


def test_a_tombstone_never_names_a_record_its_reader_cannot_see() -> None:

    alice, bob = make_caller("alice@our.test", "member"), make_caller("bob@our.test", "member")
    keep, other = _record(alice, "Jane Doe"), _record(bob, "Jane D.")
    assert alice.call("POST", "/merges", {"keep": keep["id"], "other": other["id"]})[0] == 200
    # as older versions allowed: the record kept turned private after the merge
    owner = User.objects.get(username="alice@our.test")
    Record.objects.filter(pk=keep["id"]).update(private=True, owner=owner)
    code, seen = bob.call("GET", f"/records/{other['id']}")
    assert code == 200 and seen["merged_into"] is None and keep["id"] not in str(seen)
    assert alice.call("GET", f"/records/{other['id']}")[1]["merged_into"] == keep["id"]
    page = _web("bob@our.test").get(f"/records/{other['id']}")
    assert page.status_code == 200 and keep["id"] not in page.content.decode()
    mine = _web("alice@our.test").get(f"/records/{other['id']}").content.decode()
    assert f'Merged into <a href="/records/{keep["id"]}"' in mine
