"""The home page's reads: recent activity filtered in the query, who I am, the digest."""

from __future__ import annotations

import datetime as dt

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user
from kith.core import clock
from kith.core.viewer import SYSTEM
from kith.home.selectors import home_digest, my_person, quick_search
from kith.interactions.selectors import recent_interactions
from kith.records.services import update_record
from kith.testing import log, make_home, make_person


def _users() -> tuple[object, object]:
    add_user(email="owner@our.test", role="member", password="x" * 12)
    add_user(email="other@our.test", role="member", password="x" * 12)
    return get_user("owner@our.test"), get_user("other@our.test")


def test_recent_activity_names_only_what_the_viewer_may_see() -> None:
    owner, other = _users()
    mia = make_person("Mia Member", email="mia@our.test", org=make_home())
    sam = add_owned_record(user=owner, private=True, type_key="person", name="Secret Sam")
    pat = make_person("Pat Public")
    now = clock.now()
    log("call", mia, sam, at=now - dt.timedelta(hours=1), subject="with Sam")
    log("meeting", pat, sam, at=now - dt.timedelta(hours=2), subject="Pat and Sam")
    solo = add_owned_record(user=owner, private=True, type_key="person", name="Solo Sue")
    only = add_owned_record(user=owner, private=True, type_key="person", name="Other Ola")
    log("call", solo, only, at=now - dt.timedelta(hours=3), subject="private only")

    seen = recent_interactions(viewer_of(other))
    assert [v["subject"] for v in seen] == ["with Sam", "Pat and Sam"]
    assert all(p["name"] != "Secret Sam" for v in seen for p in v["participants"])
    assert "Solo Sue" not in str(seen) and sam.id not in str(seen)
    mine = recent_interactions(viewer_of(owner))
    assert [v["subject"] for v in mine] == ["with Sam", "Pat and Sam", "private only"]
    assert len(recent_interactions(SYSTEM)) == 3


def test_recent_activity_costs_the_same_however_much_is_hidden(
    django_assert_max_num_queries: object,
) -> None:
    owner, other = _users()
    pat = make_person("Pat Public")
    for i in range(30):
        sam = add_owned_record(user=owner, private=True, type_key="person", name=f"Sam {i}")
        log("call", pat, sam, at=clock.now() - dt.timedelta(minutes=i))
    with django_assert_max_num_queries(3):  # interactions, participants, links
        assert len(recent_interactions(viewer_of(other), limit=12)) == 12


def test_my_person_is_one_the_viewer_may_see_on_our_team() -> None:
    owner, other = _users()
    home = make_home()
    make_person("Olive Owner", email="owner@our.test", org=home)
    assert my_person(viewer_of(owner), "owner@our.test")["person"].name == "Olive Owner"
    secret = add_owned_record(user=owner, private=True, type_key="person", name="Oscar Other")
    update_record(ref=secret.id, values={"email": "other@our.test"})
    found = my_person(viewer_of(other), "other@our.test")
    assert found["person"] is None and "Oscar" not in found["note"]


def test_the_digest_and_the_search_leave_out_private_records() -> None:
    owner, other = _users()
    make_home()
    add_owned_record(user=owner, private=True, type_key="person", name="Secret Sam")
    make_person("Sandy Public")
    digest = home_digest(viewer_of(other), "other@our.test")
    assert digest["me"] is None and "Secret Sam" not in str(digest)
    assert [r["name"] for r in quick_search(viewer_of(other), "sa")] == ["Sandy Public"]
    assert len(quick_search(viewer_of(owner), "sa")) == 2
