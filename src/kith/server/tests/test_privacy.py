"""Private records: seen only by their owner and admins, through every path the API has."""

from __future__ import annotations

from kith.server.tests.conftest import Caller


def test_private_record_leaks_nowhere(
    owner: Caller, member: Caller, viewer: Caller, admin: Caller
) -> None:
    _, shared = member.call("POST", "/records", {"type": "org", "name": "Shared Org"})
    code, secret = owner.call(
        "POST", "/records", {"name": "Secret Sue", "emails": ["sue@hidden.test"], "private": True}
    )
    assert code == 201 and secret["private"] is True
    _, rel = owner.call(
        "POST", "/relationships", {"a": secret["id"], "type": "works_at", "b": shared["id"]}
    )
    _, talk = owner.call(
        "POST",
        "/interactions",
        {
            "kind": "meeting",
            "participants": [{"ref": secret["id"]}, {"ref": shared["id"]}],
            "at": "2026-02-01T09:00:00Z",
        },
    )
    for who in (member, viewer):
        assert who.call("GET", f"/records/{secret['id']}")[0] == 404
        assert who.call("GET", "/records/sue@hidden.test")[0] == 404
        assert who.call("GET", "/records/Secret Sue")[0] == 404
        assert who.call("GET", f"/records/{secret['id']}/history")[0] == 404
        assert who.call("GET", f"/records/{secret['id']}/timeline")[0] == 404
        assert who.call("GET", f"/records/{secret['id']}/relationships")[0] == 404
        assert who.call("GET", f"/relationships/{rel['id']}")[0] == 404
        _, page = who.call("GET", "/records", q="sue")
        assert page["items"] == []
        _, page = who.call("GET", "/records")
        assert secret["id"] not in {r["id"] for r in page["items"]}
        _, page = who.call("GET", f"/records/{shared['id']}/relationships")
        assert page["items"] == []
        _, page = who.call("GET", "/relationships")
        assert page["items"] == []
        _, page = who.call("GET", f"/records/{shared['id']}/timeline")
        assert [p["id"] for p in page["items"][0]["participants"]] == [shared["id"]]
        _, one = who.call("GET", f"/interactions/{talk['id']}")
        assert secret["id"] not in str(one)
        _, page = who.call("GET", "/interactions")
        assert secret["id"] not in str(page)
    # writes through a hidden record fail as if it did not exist
    assert member.call("PATCH", f"/records/{secret['id']}", {"set": {"name": "x"}})[0] == 404
    assert member.call("DELETE", f"/records/{secret['id']}")[0] == 404
    code, err = member.call(
        "POST", "/relationships", {"a": secret["id"], "type": "knows", "b": shared["id"]}
    )
    assert code == 404 and err["field"] == "a"
    code, err = member.call(
        "POST", "/interactions", {"kind": "call", "participants": [{"ref": "sue@hidden.test"}]}
    )
    assert code == 404
    # the owner and admins see it everywhere
    for who in (owner, admin):
        assert who.call("GET", f"/records/{secret['id']}")[0] == 200
        _, page = who.call("GET", "/records", q="sue")
        assert [r["id"] for r in page["items"]] == [secret["id"]]
        _, page = who.call("GET", f"/records/{shared['id']}/relationships")
        assert [r["other"]["id"] for r in page["items"]] == [secret["id"]]
    # only the owner or an admin may change privacy; then everyone sees it
    assert owner.call("PATCH", f"/records/{shared['id']}", {"private": True})[0] == 403
    code, now = owner.call("PATCH", f"/records/{secret['id']}", {"private": False})
    assert code == 200 and now["private"] is False
    assert member.call("GET", f"/records/{secret['id']}")[0] == 200
