"""Scores for a viewer are built only from what they may see: hidden people neither count
nor appear in a reason, a factor or a ranking."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from kith.core.errors import NotFound
from kith.core.viewer import SYSTEM, Viewer
from kith.intelligence.selectors import at_risk, best, health, strength
from kith.lists.selectors import list_records
from kith.records.models import Record
from kith.relationships.models import Relationship
from kith.relationships.services import end_relationship
from kith.testing import log, make_home, make_org, make_person

D = dt.date
SECRETS = ("Secret Sam", "Hidden Hank", "Ghost Gail", "Hush Ltd", "Quiet Quinn")


def _meet(a: Record, b: Record, start: D, count: int = 6) -> None:
    for i in range(count):
        log("meeting", a, b, at=f"{(start + dt.timedelta(days=14 * i)).isoformat()}T10:00:00Z")


@pytest.fixture
def world() -> dict[str, Any]:
    """Acme (public): Jane (champion, engaged), Raj, and an owner's private staff: Secret Sam
    (champion, never engaged), Hidden Hank (CEO, left); a private teammate Ghost Gail in
    touch with Raj; a private org Hush Ltd whose Quinn (private too) we meet often."""
    users = get_user_model().objects
    owner = users.create_user(username="owner@our.test")
    other = users.create_user(username="other@our.test")
    home = make_home()
    mia = make_person("Mia Team", org=home, since="2020-01-01")
    gail = make_person("Ghost Gail", org=home, since="2020-01-01")
    acme = make_org("Acme")
    jane = make_person("Jane Doe", org=acme, role="champion", since="2024-01-01")
    raj = make_person("Raj Roe", org=acme, role="engineer", since="2024-01-01")
    sam = make_person("Secret Sam", org=acme, role="champion", since="2024-01-01")
    hank = make_person("Hidden Hank", org=acme, role="CEO", since="2024-01-01")
    hush = make_org("Hush Ltd")
    quinn = make_person("Quiet Quinn", org=hush, role="champion", since="2024-01-01")
    _meet(mia, jane, D(2026, 6, 1))
    _meet(mia, hank, D(2026, 6, 2))
    _meet(gail, raj, D(2026, 6, 3))
    _meet(mia, quinn, D(2026, 6, 4), count=12)
    end_relationship(
        rel_id=Relationship.objects.get(from_record=hank, to_record=acme).id, on="2026-09-01"
    )
    for record in (sam, hank, gail, hush, quinn):
        Record.objects.filter(pk=record.pk).update(private=True, owner=owner)
    return {
        "owner": Viewer(user_id=owner.pk),
        "other": Viewer(user_id=other.pk),
        "acme": acme,
        "quinn": quinn,
    }


def _named(data: Any) -> list[str]:
    return [s for s in SECRETS if s in str(data)]


def test_health_reasons_factors_and_counts_leave_hidden_people_out(world: dict[str, Any]) -> None:
    day = D(2026, 9, 15)
    full = health(SYSTEM, "Acme", as_of=day)
    assert "champion Secret Sam is not engaged (health 0)" in full["reasons"]
    assert any("Hidden Hank left Acme" in r for r in full["reasons"])
    assert full["people"] == 3 and full["our_people_in_touch"] == 2
    seen = health(world["other"], "Acme", as_of=day, trend=True, periods=3)
    assert _named(seen) == []
    assert seen["people"] == 2 and seen["our_people_in_touch"] == 1
    assert "we engage 1 of the 2 people at Acme" in seen["reasons"]
    assert "only one of our people talks to Acme (Mia Team)" in seen["reasons"]
    assert not any(f["name"] == "risk_events" for f in seen["factors"])
    # the owner sees their own records, as the system does
    assert health(world["owner"], "Acme", as_of=day)["reasons"] == full["reasons"]
    raj = health(world["other"], "Raj Roe", as_of=day)
    assert _named(raj) == [] and raj["score"] == 0


def test_rankings_and_strength_leave_hidden_records_out(world: dict[str, Any]) -> None:
    day = D(2026, 9, 15)
    assert "Hush Ltd" in str(best(SYSTEM, as_of=day))
    assert "Hidden Hank" in str(at_risk(SYSTEM, as_of=day))
    for viewer in (world["other"],):
        assert _named(best(viewer, as_of=day, limit=100)) == []
        assert _named(at_risk(viewer, as_of=day, limit=100)) == []
    assert "Hush Ltd" in str(best(world["owner"], as_of=day))
    with pytest.raises(NotFound) as err:
        strength(world["other"], "Mia Team", world["quinn"].id, as_of=day)
    assert err.value.message == f"b: no record matches {world['quinn'].id!r}"
    assert strength(world["owner"], "Mia Team", "Quiet Quinn", as_of=day)["score"] > 0


def test_list_health_columns_filters_and_sorts_score_from_what_the_viewer_sees(
    world: dict[str, Any], time_travel: Any
) -> None:
    time_travel.to("2026-09-15T12:00:00Z")
    params = {"cols": ["health"], "sort": ["-health"]}

    def acme(viewer: Viewer) -> dict[str, Any]:
        page = list_records(viewer, "organization", params)
        assert viewer == world["owner"] or _named(page) == []
        return next(r for r in page["rows"] if r["name"] == "Acme")["cells"]["health"]

    system_score = list_records(SYSTEM, "organization", params)
    full = next(r for r in system_score["rows"] if r["name"] == "Acme")["cells"]["health"]
    seen = acme(world["other"])  # the private champion who is not engaged does not count
    assert seen["score"] != full["score"]
    assert seen["score"] == round(health(world["other"], "Acme")["score"])
    assert acme(world["owner"]) == full  # the owner sees what the system does
    # a page's own column (no health sort: only the page is scored) agrees with the sort
    unsorted = list_records(world["other"], "organization", {"cols": ["health"]})
    assert next(r for r in unsorted["rows"] if r["name"] == "Acme")["cells"]["health"] == seen
    by_band = list_records(world["other"], "organization", {"band": [seen["band"]]})
    assert "Acme" in [r["name"] for r in by_band["rows"]] and "Hush Ltd" not in str(by_band)
