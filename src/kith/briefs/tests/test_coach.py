"""Coaching: one person against their own past; who may look; every other look audited and
shown to the person; the admin switch; and no output orders or ranks our people."""

from __future__ import annotations

import datetime as dt
import inspect
import json
from typing import Any

import pytest

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_user
from kith.briefs import coach
from kith.briefs.services import open_coaching, set_coaching
from kith.core.errors import NotFound, ValidationError
from kith.core.viewer import SYSTEM
from kith.testing import log

DAY = dt.date(2026, 11, 14)


@pytest.fixture
def people(acme: dict[str, Any]) -> dict[str, Any]:
    add_user(email="ann@our.test", role="member", team="sales", password="a long password 3")
    add_user(email="bob@our.test", role="member", team="sales", password="a long password 4")
    add_user(email="lead@our.test", role="member", team="sales", password="a long password 5")
    add_user(email="boss@our.test", role="admin", password="a long password 6")
    # a slow reply before, a fast one lately: Ann's own habit changed
    for day in ("2026-08-20", "2026-09-03", "2026-09-24"):
        log("email", acme["kim"], acme["ann"], at=f"{day}T09:00Z", direction="in", subject="Q")
        log("email", acme["ann"], acme["kim"], at=f"{day}T21:00Z", direction="out", subject="A")
    return {n: viewer_of(get_user(f"{n}@our.test")) for n in ("ann", "bob", "lead", "boss")}


def test_a_person_sees_their_own_coaching(acme: dict[str, Any], people: dict[str, Any]) -> None:
    page = open_coaching(viewer=people["ann"], user="ann@our.test", as_of=DAY)
    assert page["person"]["name"] == "Ann Lee" and "nobody is ranked" in page["compared_with"]
    assert page["portfolio"]["ties"] >= 3
    assert sum(page["portfolio"]["bands_now"].values()) == page["portfolio"]["ties"]
    slipping = [s["person"]["name"] for s in page["slipping"]]
    assert "Jane Doe" in slipping  # she left; the tie cooled
    assert all(s["reasons"] and s["change"] < 0 for s in page["slipping"])
    (reply,) = [h for h in page["habits"] if h["habit"].startswith("reply time")]
    assert reply["baseline"] == 12.0  # her own 12 weeks before: 12 hours each time
    assert all(t["label"] == "suggestion" and t["evidence"] for t in page["try"])
    assert page["viewed_by_others"] == []


def test_who_may_look_and_every_other_look_is_shown(
    acme: dict[str, Any], people: dict[str, Any]
) -> None:
    with pytest.raises(NotFound, match=r"user: no coaching for 'ann@our\.test' that you may see"):
        open_coaching(viewer=people["bob"], user="ann@our.test", as_of=DAY)  # a peer: no
    open_coaching(viewer=people["boss"], user="ann@our.test", as_of=DAY)  # an admin: yes
    with pytest.raises(NotFound):
        open_coaching(viewer=people["lead"], user="ann@our.test", as_of=DAY)
    set_coaching(viewer=SYSTEM, team="sales", leads=["lead@our.test"])
    open_coaching(viewer=people["lead"], user="ann@our.test", as_of=DAY)  # the team lead: yes
    mine = open_coaching(viewer=people["ann"], user="ann@our.test", as_of=DAY)
    assert sorted(v["by"] for v in mine["viewed_by_others"]) == [
        "boss@our.test",
        "lead@our.test",
    ]
    set_coaching(viewer=SYSTEM, mode="self")
    with pytest.raises(NotFound):
        open_coaching(viewer=people["boss"], user="ann@our.test", as_of=DAY)
    open_coaching(viewer=people["ann"], user="ann@our.test", as_of=DAY)
    set_coaching(viewer=SYSTEM, mode="off")
    with pytest.raises(ValidationError, match="coaching: an admin has turned coaching off"):
        open_coaching(viewer=people["ann"], user="ann@our.test", as_of=DAY)
    with pytest.raises(ValidationError, match="mode: 'loud' is not one of on, self, off"):
        set_coaching(viewer=SYSTEM, mode="loud")
    with pytest.raises(ValidationError, match="only an admin"):
        set_coaching(viewer=people["ann"], mode="on")


def test_no_output_orders_or_ranks_our_people(
    acme: dict[str, Any], people: dict[str, Any], cli: Any
) -> None:
    # every coaching read takes one person of ours; none takes several to compare
    for name, fn in inspect.getmembers(coach, inspect.isfunction):
        params = inspect.signature(fn).parameters
        assert not any(p in params for p in ("members", "team", "people", "users")), name
    page = open_coaching(viewer=SYSTEM, user="ann@our.test", as_of=DAY)
    text = json.dumps(page)
    assert "Bob Stone" not in text  # another of ours is never named in Ann's page
    keys: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            keys.update(v)
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(page)
    assert not keys & {"rank", "ranking", "percentile", "leaderboard", "position", "score_vs_team"}
    code, out, _ = cli("coach", "--user", "ann@our.test", "--as-of", DAY.isoformat())
    assert code == 0 and out.startswith("Coaching for Ann Lee")


def test_a_private_person_is_in_no_coaching_of_another_user(
    acme: dict[str, Any], people: dict[str, Any]
) -> None:
    page = json.dumps(open_coaching(viewer=people["ann"], user="ann@our.test", as_of=DAY))
    for leak in ("Secret Sam", acme["secret"].id, acme["hush"].id):
        assert leak not in page
    owners = json.dumps(coach.coaching(acme["owner"], acme["ann"], as_of=DAY))
    assert "Secret Sam" in owners  # the owner's own view of the same data has them
