"""A user who may not see a private record learns nothing of it from any read of the API."""

from __future__ import annotations

from typing import Any

import pytest

from kith import testing
from kith.server.tests.conftest import Caller


@pytest.fixture
def world(owner: Caller, member: Caller) -> dict[str, Any]:
    """Shared Sam and the owner's private Sam (same name, a shared email), a private org."""
    from kith.accounts.selectors import get_user
    from kith.accounts.services import add_owned_record

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
