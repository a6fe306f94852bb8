"""Relationships, interactions and timelines over the API."""

from __future__ import annotations

from kith.server.tests.conftest import Caller


def _people(member: Caller) -> tuple[dict, dict, dict]:
    _, acme = member.call(
        "POST", "/records", {"type": "org", "name": "Acme", "domains": ["acme.test"]}
    )
    _, jane = member.call("POST", "/records", {"name": "Jane Roe", "emails": ["jane@acme.test"]})
    _, bob = member.call("POST", "/records", {"name": "Bob Poe", "emails": ["bob@acme.test"]})
    return acme, jane, bob


def test_relationships_both_ends_and_as_of(member: Caller, viewer: Caller) -> None:
    acme, jane, bob = _people(member)
    code, rel = member.call(
        "POST",
        "/relationships",
        {
            "a": "jane@acme.test",
            "type": "works_at",
            "b": "Acme",
            "role": "CTO",
            "since": "2020-01-01",
        },
    )
    assert code == 201 and rel["from"]["id"] == jane["id"] and rel["to"]["id"] == acme["id"]
    code, rel2 = member.call(
        "POST", "/relationships", {"a": "Acme", "type": "employs", "b": bob["id"]}
    )
    assert code == 201 and rel2["from"]["id"] == bob["id"]
    code, err = member.call(
        "POST",
        "/relationships",
        {
            "a": jane["id"],
            "type": "works_at",
            "b": acme["id"],
            "role": "CTO",
            "since": "2020-01-01",
        },
    )
    assert code == 409 and err["field"] == "type"
    code, err = member.call(
        "POST", "/relationships", {"a": jane["id"], "type": "flies_to", "b": acme["id"]}
    )
    assert code == 404 and err["field"] == "type"
    code, err = member.call(
        "POST", "/relationships", {"a": jane["id"], "type": "knows", "b": jane["id"]}
    )
    assert code == 422 and err["field"] == "b"
    code, err = member.call(
        "POST",
        "/relationships",
        {"a": jane["id"], "type": "knows", "b": bob["id"], "since": "nope"},
    )
    assert code == 422 and err["field"] == "since"
    code, ended = member.call("POST", f"/relationships/{rel['id']}/end", {"on": "2024-06-01"})
    assert code == 200 and ended["until"] == "2024-06-01" and ended["active"] is False
    code, err = member.call("POST", f"/relationships/{rel['id']}/end", {"on": "2024-06-01"})
    assert code == 409
    code, page = viewer.call("GET", f"/records/{acme['id']}/relationships")
    assert code == 200 and {r["label"] for r in page["items"]} == {"employs"}
    assert len(page["items"]) == 2
    code, page = viewer.call("GET", f"/records/{acme['id']}/relationships", as_of="2019-01-01")
    assert [r["other"]["id"] for r in page["items"]] == [bob["id"]]
    code, page = viewer.call("GET", f"/records/{acme['id']}/relationships", as_of="2023-01-01")
    assert {r["other"]["id"] for r in page["items"]} == {jane["id"], bob["id"]}
    code, page = viewer.call("GET", "/relationships", record=jane["id"])
    assert [r["id"] for r in page["items"]] == [rel["id"]]
    code, page = viewer.call("GET", "/relationships", as_of="2025-01-01", limit=1)
    assert len(page["items"]) == 1 and page["next_cursor"] is None
    code, one = viewer.call("GET", f"/relationships/{rel2['id']}")
    assert code == 200 and one["type"] == "works_at"
    assert viewer.call("GET", "/relationships/rel_nothing")[0] == 404
    code, types = viewer.call("GET", "/relationship-types")
    assert "works_at" in {t["key"] for t in types}


def test_relationship_types_admin_only(admin: Caller, member: Caller) -> None:
    body = {
        "name": "mentors",
        "inverse": "mentored_by",
        "from_types": ["person"],
        "to_types": ["person"],
    }
    assert member.call("POST", "/relationship-types", body)[0] == 403
    code, t = admin.call("POST", "/relationship-types", body)
    assert code == 201 and t["inverse"] == "mentored_by"
    code, err = admin.call("POST", "/relationship-types", {"name": "twin", "inverse": "twin"})
    assert code == 422 and err["field"] == "inverse"


def test_interactions_and_timeline(member: Caller, viewer: Caller) -> None:
    acme, jane, _bob = _people(member)
    member.call("POST", "/relationships", {"a": jane["id"], "type": "works_at", "b": acme["id"]})
    ids = []
    for day in range(1, 8):
        code, i = member.call(
            "POST",
            "/interactions",
            {
                "kind": "email",
                "participants": [{"ref": "jane@acme.test", "role": "from"}],
                "at": f"2026-01-0{day}T10:00:00Z",
                "subject": f"mail {day}",
                "external_id": f"m{day}",
            },
        )
        assert code == 201 and i["created"] is True
        ids.append(i["id"])
    code, again = member.call(
        "POST",
        "/interactions",
        {"kind": "email", "participants": [{"ref": jane["id"]}], "external_id": "m3"},
    )
    assert code == 200 and again["created"] is False and again["id"] == ids[2]
    code, err = member.call("POST", "/interactions", {"kind": "call", "participants": []})
    assert code == 422 and err["field"] == "with"
    code, err = member.call(
        "POST",
        "/interactions",
        {"kind": "call", "participants": [{"ref": jane["id"], "role": "pilot"}]},
    )
    assert code == 422 and err["field"] == "role"
    code, err = member.call(
        "POST",
        "/interactions",
        {"kind": "call", "participants": [{"ref": jane["id"]}], "sentiment": 3},
    )
    assert code == 422 and err["field"] == "sentiment"
    # the org's timeline rolls up Jane's mail; pages by cursor, newest first
    seen, cursor = [], None
    while True:
        q = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        code, page = viewer.call("GET", f"/records/{acme['id']}/timeline", **q)
        assert code == 200
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids[::-1]
    code, page = viewer.call("GET", "/interactions", record=jane["id"], sort="at", limit=2)
    assert [i["id"] for i in page["items"]] == ids[:2] and page["next_cursor"]
    code, page2 = viewer.call(
        "GET", "/interactions", record=jane["id"], sort="at", limit=2, cursor=page["next_cursor"]
    )
    assert [i["id"] for i in page2["items"]] == ids[2:4]
    code, page = viewer.call("GET", "/interactions", since="2026-01-06T00:00:00Z", kind="email")
    assert [i["id"] for i in page["items"]] == ids[:4:-1]
    code, one = viewer.call("GET", f"/interactions/{ids[0]}")
    assert code == 200 and one["participants"] == [
        {"id": jane["id"], "name": "Jane Roe", "role": "from"}
    ]
    assert viewer.call("GET", "/interactions/int_none")[0] == 404
    assert (
        viewer.call(
            "POST", "/interactions", {"kind": "call", "participants": [{"ref": jane["id"]}]}
        )[0]
        == 403
    )


def test_timeline_pages_on_time_and_id_so_a_shared_second_loses_nothing(member: Caller) -> None:
    acme, jane, _bob = _people(member)
    member.call("POST", "/relationships", {"a": jane["id"], "type": "works_at", "b": acme["id"]})
    made = set()
    for _ in range(5):
        _, i = member.call(
            "POST",
            "/interactions",
            {"kind": "call", "participants": [{"ref": jane["id"]}], "at": "2026-01-05T10:00:00Z"},
        )
        made.add(i["id"])
    for ref in (jane["id"], acme["id"]):  # a person's own, and an organisation's via its staff
        seen: list[str] = []
        cursor = None
        while True:
            query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            code, page = member.call("GET", f"/records/{ref}/timeline", **query)
            assert code == 200, page
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == 5 and set(seen) == made  # every one, once, in (time, id) order
        assert seen == sorted(seen, reverse=True)
    code, err = member.call("GET", f"/records/{jane['id']}/timeline", cursor="bm90IGEgY3Vyc29y")
    assert code == 422 and err["field"] == "cursor"
