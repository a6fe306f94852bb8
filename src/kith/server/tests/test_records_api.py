"""Records and custom types over the API: success, validation, permission, concurrency."""

from __future__ import annotations

from django.db import connection
from django.test import Client

from kith.server.tests.conftest import Caller


def test_create_read_update_delete_restore(member: Caller, viewer: Caller) -> None:
    code, rec = member.call(
        "POST", "/records", {"type": "person", "name": "Ada Lovelace", "emails": ["ada@x.org"]}
    )
    assert code == 201
    assert rec["owner"] == "member@our.test" and rec["version"] == 1
    code, got = viewer.call("GET", "/records/ada@x.org")
    assert code == 200 and got["id"] == rec["id"] and got["emails"] == ["ada@x.org"]
    code, upd = member.call(
        "PATCH", f"/records/{rec['id']}", {"version": 1, "set": {"name": "Ada L"}}
    )
    assert code == 200 and upd["name"] == "Ada L" and upd["version"] == 2
    code, gone = member.call("DELETE", f"/records/{rec['id']}")
    assert code == 200 and gone["deleted_at"]
    code, page = viewer.call("GET", "/records")
    assert code == 200 and page["items"] == []
    code, back = member.call("POST", f"/records/{rec['id']}/restore")
    assert code == 200 and back["deleted_at"] is None
    code, hist = viewer.call("GET", f"/records/{rec['id']}/history")
    assert code == 200
    actions = [(h["action"], h["field"], h["actor"]) for h in hist["items"]]
    assert ("create", "", "member@our.test") in actions
    assert ("update", "name", "member@our.test") in actions
    assert ("delete", "", "member@our.test") in actions


def test_stale_version_gets_409_with_current_state(member: Caller, owner: Caller) -> None:
    _, rec = member.call("POST", "/records", {"type": "org", "name": "Acme"})
    code, _ = owner.call(
        "PATCH", f"/records/{rec['id']}", {"version": 1, "set": {"name": "Acme Ltd"}}
    )
    assert code == 200
    code, err = member.call(
        "PATCH", f"/records/{rec['id']}", {"version": 1, "set": {"name": "Acme Inc"}}
    )
    assert code == 409
    assert err["code"] == "conflict" and err["field"] == "version"
    assert err["current"]["name"] == "Acme Ltd" and err["current"]["version"] == 2
    code, now = member.call("GET", f"/records/{rec['id']}")
    assert now["name"] == "Acme Ltd"


def test_validation_errors_name_the_field(member: Caller) -> None:
    code, err = member.call("POST", "/records", {"type": "person", "name": "  "})
    assert code == 422 and err["field"] == "name"
    code, err = member.call("POST", "/records", {"type": "person", "name": "X", "emails": ["nope"]})
    assert code == 422 and err["field"] == "email" and "nope" in err["message"]
    code, err = member.call("POST", "/records", {"type": "spaceship", "name": "X"})
    assert code == 404 and err["field"] == "type"
    code, err = member.call("POST", "/records", {"name": 5})
    assert code == 422 and err["field"] == "name"
    code, err = member.call("GET", "/records", sort="shoe_size")
    assert code == 422 and err["field"] == "sort"
    code, err = member.call("GET", "/records", cursor="!!!")
    assert code == 422 and err["field"] == "cursor"
    code, err = member.call("GET", "/records", limit=0)
    assert code == 422 and err["field"] == "limit"
    code, err = member.call("PATCH", "/records/nobody", {"set": {"name": "x"}})
    assert code == 404 and err["code"] == "not_found"


def test_ambiguous_reference_is_400_with_candidates(member: Caller) -> None:
    member.call("POST", "/records", {"name": "Sam Smith"})
    member.call("POST", "/records", {"name": "Sam Smith"})
    code, err = member.call("GET", "/records/Sam Smith")
    assert code == 400 and err["code"] == "ambiguous" and len(err["candidates"]) == 2


def test_list_filters_sorts_and_pages_with_cursors(viewer: Caller, member: Caller) -> None:
    names = [f"Person {i:02d}" for i in range(12)]
    for n in reversed(names):
        member.call("POST", "/records", {"name": n})
    member.call("POST", "/records", {"type": "org", "name": "Person Org"})
    seen: list[str] = []
    cursor = None
    while True:
        query = {"type": "person", "limit": 5, **({"cursor": cursor} if cursor else {})}
        code, page = viewer.call("GET", "/records", **query)
        assert code == 200 and len(page["items"]) <= 5
        seen += [r["name"] for r in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == names
    code, page = viewer.call("GET", "/records", sort="-name", limit=3, type="person")
    assert [r["name"] for r in page["items"]] == names[::-1][:3]
    code, page = viewer.call("GET", "/records", q="person 0", limit=50)
    assert len(page["items"]) == 10
    code, page = viewer.call("GET", "/records", sort="-created_at", limit=1)
    assert page["items"][0]["name"] == "Person Org"


def test_custom_types_are_admin_only(admin: Caller, member: Caller) -> None:
    code, err = member.call(
        "POST", "/types", {"key": "vendor", "fields": ["tier:choice:gold|silver"]}
    )
    assert code == 403 and err["code"] == "forbidden"
    code, t = admin.call("POST", "/types", {"key": "vendor", "fields": ["tier:choice:gold|silver"]})
    assert code == 201 and t["fields"][0]["choices"] == ["gold", "silver"]
    code, err = admin.call("POST", "/types", {"key": "vendor"})
    assert code == 409 and err["field"] == "type"
    code, t = admin.call("POST", "/types/vendor/fields", {"spec": "since:date"})
    assert code == 201 and [f["name"] for f in t["fields"]] == ["tier", "since"]
    code, rec = member.call(
        "POST", "/records", {"type": "vendor", "name": "V", "fields": {"tier": "bronze"}}
    )
    assert code == 422 and rec["field"] == "tier"
    code, rec = member.call(
        "POST", "/records", {"type": "vendor", "name": "V", "fields": {"tier": "gold"}}
    )
    assert code == 201 and rec["fields"] == {"tier": "gold"}
    code, types = member.call("GET", "/types")
    assert "vendor" in [t["key"] for t in types]


def test_viewer_cannot_write(viewer: Caller, member: Caller) -> None:
    _, rec = member.call("POST", "/records", {"name": "Kept"})
    assert viewer.call("POST", "/records", {"name": "X"})[0] == 403
    assert viewer.call("PATCH", f"/records/{rec['id']}", {"set": {"name": "Y"}})[0] == 403
    assert viewer.call("DELETE", f"/records/{rec['id']}")[0] == 403
    assert member.call("GET", f"/records/{rec['id']}")[1]["name"] == "Kept"


def test_values_the_database_refuses_are_422_not_500(member: Caller) -> None:
    pg = connection.vendor == "postgresql"
    # a name with NUL is refused by the records service alike on both databases
    code, err = member.call("POST", "/records", {"name": "Nul\u0000Byte"})
    assert code == 422 and err["field"] == "name" and "NUL" in err["message"]
    # so is a relationship note (and an interaction's subject, body ...)
    a = member.call("POST", "/records", {"name": "Ann"})[1]["id"]
    b = member.call("POST", "/records", {"name": "Bo"})[1]["id"]
    rel = {"a": a, "type": "knows", "b": b, "note": "Nul\u0000Note"}
    code, err = member.call("POST", "/relationships", rel)
    assert code == 422 and err["field"] == "note" and "NUL" in err["message"]
    # a NUL inside an interaction's meta still reaches the database, which PostgreSQL
    # refuses: 422, not 500
    logged = {"kind": "call", "participants": [{"ref": a}], "meta": {"k": "Nul\u0000Meta"}}
    code, err = member.call("POST", "/interactions", logged)
    assert code == (422 if pg else 201)
    if pg:
        assert err["code"] == "invalid" and "cannot be stored" in err["message"]


def test_unknown_api_paths_answer_json_404() -> None:
    for path in ("/api/v1/no-such-thing", "/api/v2/records", "/api"):
        resp = Client().get(path)
        assert resp.status_code == 404, path
        assert resp.json()["code"] == "not_found", path
        assert resp["Content-Type"].startswith("application/json")
