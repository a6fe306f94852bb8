"""Pages never show a private record to a user who may not see it, nor confirm it exists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kith import testing
from kith.accounts.selectors import get_user
from kith.accounts.services import add_owned_record, set_private


@pytest.fixture
def world(make_client: Callable[..., Client]) -> dict[str, Any]:
    """member1 owns private Sam Lee (a shared Sam Lee too) and private Hush Ltd (staff: Ann)."""
    testing.make_home()
    owner = make_client("member")
    other = make_client("member")
    user = get_user("member1@our.test")
    shared = testing.make_person("Sam Lee", email="sam@one.test")
    secret = add_owned_record(
        user=user, private=True, type_key="person", name="Sam Lee", emails=["sam@hidden.test"]
    )
    org = add_owned_record(user=user, private=True, type_key="organization", name="Hush Ltd")
    ann = testing.make_person("Ann Staff", org=org)
    return {
        "owner": owner,
        "other": other,
        "shared": shared,
        "secret": secret,
        "org": org,
        "ann": ann,
    }


def test_a_relate_form_names_no_hidden_candidate(world: dict[str, Any]) -> None:
    bob = testing.make_person("Bob Asks")
    resp = world["other"].post(
        f"/records/{bob.id}/relationships", {"type": "knows", "other": "Sam Lee"}
    )
    html = resp.content.decode()
    assert world["secret"].id not in html and "sam@hidden.test" not in html
    assert resp.status_code in (200, 302)  # one Sam Lee for this user: no ambiguity


def test_people_of_a_private_org_answer_like_an_unknown_org(world: dict[str, Any]) -> None:
    hidden = world["other"].get("/people", {"org": "Hush Ltd"})
    missing = world["other"].get("/people", {"org": "Hash Ltd"})
    assert hidden.status_code == missing.status_code == 400
    text = hidden.content.decode()
    assert "Ann Staff" not in text and world["org"].id not in text
    for name, page in (("Hush Ltd", text), ("Hash Ltd", missing.content.decode())):
        assert f"org: no organization record matches &#39;{name}&#39;" in page
    assert "Ann Staff" in world["owner"].get("/people", {"org": "Hush Ltd"}).content.decode()


def test_no_page_names_or_counts_a_hidden_record(make_client: Callable[..., Client]) -> None:
    """Acme's hidden champion Secret Sam reports to Jane, knows Zed, shares Jane's email."""
    home = testing.make_home()
    owner, other = make_client("member"), make_client("member")
    mia = testing.make_person("Mia Team", org=home, since="2020-01-01")
    acme = testing.make_org("Acme")
    jane = testing.make_person("Jane Doe", email="jane@acme.test", org=acme, role="VP")
    sam = testing.make_person("Secret Sam", org=acme, role="champion", since="2024-01-01")
    testing.load_contact(sam, "email", "jane@acme.test")
    zed = testing.make_person("Zed Target")
    testing.relate(sam, "reports_to", jane)
    testing.relate(sam, "knows", zed)
    testing.log("call", zed, sam, subject="A call")
    for i in range(4):
        testing.log("meeting", mia, jane, at=f"2026-11-0{i + 1}T10:00:00Z")
    set_private(record=sam, private=True, user=get_user("member1@our.test"))
    pages = [
        "/",
        f"/records/{acme.id}",
        f"/records/{acme.id}/health",
        f"/records/{jane.id}",
        f"/records/{jane.id}/history",
        f"/records/{jane.id}/map?depth=2",
        f"/records/{jane.id}/map.json?depth=2",
        f"/records/{zed.id}/map?to={acme.id}",
        f"/records/{zed.id}",
        f"/records/{acme.id}/orgchart",
        "/duplicates?min_score=0",
        "/people",
    ]
    for url in pages:
        resp = other.get(url)
        html = resp.content.decode()
        assert resp.status_code == 200, url
        assert "Secret Sam" not in html and sam.id not in html, url
    health = other.get(f"/records/{acme.id}/health").content.decode()
    assert "no key roles (decision maker, champion ...) recorded at Acme" in health
    assert "Secret Sam" in owner.get(f"/records/{acme.id}/health").content.decode()
    assert "Secret Sam" in owner.get(f"/records/{acme.id}/orgchart").content.decode()
