"""A user who may not see a private record learns nothing of it from any read of the API."""

from __future__ import annotations

from typing import Any

import pytest

from kith import testing
from kith.accounts.selectors import get_user
from kith.accounts.services import add_owned_record, set_private
from kith.server.tests.conftest import Caller


@pytest.fixture
def world(owner: Caller, member: Caller) -> dict[str, Any]:
    """Shared Sam and the owner's private Sam (same name, a shared email), a private org."""
    shared = testing.make_person("Sam Lee", email="sam@one.test")
    user = get_user("owner@our.test")
    secret = add_owned_record(
        user=user, private=True, type_key="person", name="Sam Lee", emails=["sam@hidden.test"]
    )
    testing.load_contact(shared, "email", "team@both.test")
    testing.load_contact(secret, "email", "team@both.test")
    org = add_owned_record(user=user, private=True, type_key="organization", name="Hush Ltd")
    for email in ("twin1@hidden.test", "twin2@hidden.test"):
        add_owned_record(
            user=user, private=True, type_key="person", name="Sam Twin", emails=[email]
        )
    return {"shared": shared, "secret": secret, "org": org}


def _hidden_in(data: Any, world: dict[str, Any]) -> list[str]:
    text = str(data)
    return [
        w for w in (world["secret"].id, "sam@hidden.test", world["org"].id, "Hush") if w in text
    ]


def test_an_ambiguous_reference_never_lists_a_hidden_candidate(
    world: dict[str, Any], member: Caller, owner: Caller, admin: Caller
) -> None:
    for ref in ("Sam Lee", "team@both.test"):
        code, data = member.call("GET", f"/records/{ref}")
        assert code == 200 and data["id"] == world["shared"].id, ref
        code, data = member.call("GET", "/paths", to=ref)
        assert not _hidden_in(data, world), ref
        for who in (owner, admin):
            code, data = who.call("GET", f"/records/{ref}")
            assert code == 400 and len(data["candidates"]) == 2, ref
            assert world["secret"].id in str(data["candidates"])


def test_a_hidden_reference_answers_exactly_like_a_missing_one(
    world: dict[str, Any], member: Caller
) -> None:
    for hidden, missing in (
        (world["secret"].id, world["secret"].id[:-1] + "0"),
        ("sam@hidden.test", "sam@nobody.test"),
        ("Hush Ltd", "Hash Ltd"),
        ("Sam Twin", "Sam Nobody"),  # two hidden matches: not ambiguous, not there at all
    ):
        for path in ("/records/{}", "/records/{}/health", "/records/{}/map"):
            code_h, err_h = member.call("GET", path.format(hidden))
            code_m, err_m = member.call("GET", path.format(missing))
            assert (code_h, err_h["field"]) == (code_m, err_m["field"]) == (404, "ref")
            assert err_h["message"].replace(hidden, "X") == err_m["message"].replace(missing, "X")


@pytest.fixture
def acme(owner: Caller, member: Caller) -> dict[str, Any]:
    """Public Acme with Jane (engaged by Mia of our team) and the owner's private champion
    Secret Sam, who reports to Jane, knows Zed, and shares Jane's email."""
    home = testing.make_home()
    mia = testing.make_person("Mia Team", org=home, since="2020-01-01")
    acme = testing.make_org("Acme")
    jane = testing.make_person("Jane Doe", email="jane@acme.test", org=acme, role="VP")
    sam = testing.make_person("Secret Sam", org=acme, role="champion", since="2024-01-01")
    testing.load_contact(sam, "email", "jane@acme.test")
    zed = testing.make_person("Zed Target")
    testing.relate(sam, "reports_to", jane)
    testing.relate(sam, "knows", zed)
    for i in range(6):
        testing.log("meeting", mia, jane, at=f"2026-1{i % 2}-0{i + 1}T10:00:00Z")
    testing.log("call", zed, sam, at="2026-11-20T10:00:00Z", subject="A call")
    talk = testing.log("note", sam, at="2026-11-21T10:00:00Z", subject="Secret note")
    set_private(record=sam, private=True, user=get_user("owner@our.test"))
    return {"acme": acme, "jane": jane, "sam": sam, "zed": zed, "mia": mia, "talk": talk}


def test_no_read_of_the_api_names_or_counts_a_hidden_record(
    acme: dict[str, Any], member: Caller, owner: Caller
) -> None:
    sam, a, j = acme["sam"], acme["acme"].id, acme["jane"].id
    reads = {
        "health": f"/records/{a}/health",
        "health_person": f"/records/{j}/health",
        "best": "/best",
        "at_risk": "/at-risk",
        "paths": f"/paths?to={acme['zed'].id}",
        "mutual": f"/mutual?a={j}&b={acme['zed'].id}",
        "map": f"/records/{j}/map?depth=2",
        "orgchart": f"/records/{a}/orgchart",
        "connectors": "/connectors",
        "connectors_org": f"/connectors?org={a}",
        "duplicates": "/duplicates?min_score=0",
        "history": f"/records/{j}/history",
        "relationships": f"/records/{j}/relationships",
        "timeline": f"/records/{a}/timeline",
        "zed_timeline": f"/records/{acme['zed'].id}/timeline",
        "interactions": "/interactions",
        "search": "/search?q=Sam",
        "search_typo": "/search?q=Secrt",
    }
    for name, url in reads.items():
        path, _, query = url.partition("?")
        params = dict(p.split("=") for p in query.split("&")) if query else {}
        code, data = member.call("GET", path, **params)
        assert code == 200, (name, data)
        assert "Secret Sam" not in str(data) and sam.id not in str(data), name
        code, data = owner.call("GET", path, **params)
        assert code == 200, (name, data)
    _, chart = member.call("GET", f"/records/{a}/orgchart")
    _, health = member.call("GET", f"/records/{a}/health")
    assert chart["people"] == 1 and health["people"] == 1
    assert owner.call("GET", f"/records/{a}/orgchart")[1]["people"] == 2
    assert sam.id in str(owner.call("GET", "/search", q="Sam")[1])  # the owner finds Sam
    _, seen = owner.call("GET", f"/records/{a}/health")
    assert seen["people"] == 2
    assert "champion Secret Sam is not engaged (health 0)" in seen["reasons"]
    # a hidden interaction is not found exactly like one that never was
    talk = acme["talk"].id
    code, err = member.call("GET", f"/interactions/{talk}")
    code2, err2 = member.call("GET", f"/interactions/{talk[:-1]}0")
    assert (code, code2) == (404, 404)
    assert err["message"].replace(talk, "X") == err2["message"].replace(f"{talk[:-1]}0", "X")
    assert owner.call("GET", f"/interactions/{talk}")[0] == 200


def test_an_email_only_a_hidden_record_has_is_free_for_those_it_is_hidden_from(
    world: dict[str, Any], member: Caller, owner: Caller
) -> None:
    """Refusing would tell the member the address is in the workspace: the API, like an
    import by the same member, makes the record; the review shows the pair to the owner."""
    code, made = member.call("POST", "/records", {"name": "New Sam", "emails": ["sam@hidden.test"]})
    assert code == 201, made
    assert _hidden_in(made, world) == ["sam@hidden.test"]  # only what the member typed
    _, again = member.call("GET", "/records/sam@hidden.test")
    assert again["id"] == made["id"]  # the member's own reference finds the member's record
    _, pairs = owner.call("GET", "/duplicates?min_score=0")
    assert made["id"] in str(pairs) and world["secret"].id in str(pairs)  # theirs to merge
    code, err = member.call("POST", "/records", {"name": "New Sam", "emails": ["sam@one.test"]})
    assert code == 409 and world["shared"].id in err["message"]  # a visible holder is named
    code, err = owner.call("POST", "/records", {"name": "Third", "emails": ["sam@hidden.test"]})
    assert code == 409  # its owner sees a holder
