"""Lists sorted or filtered by health, and the home page's at-risk lists, read the kept
scores when they are the viewer's and give the same rows as computing from the data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kith.core.errors import ValidationError
from kith.core.viewer import SYSTEM, Viewer
from kith.intelligence.attention import at_risk_by_type, health_scores
from kith.intelligence.conf import model_config
from kith.intelligence.engine import compute
from kith.intelligence.kept_selectors import DAY, is_current
from kith.intelligence.kept_services import rescore
from kith.intelligence.models import IntelState, KeptScore
from kith.lists.selectors import list_records
from kith.records.models import Record
from kith.records.services import delete_record
from kith.relationships.models import Relationship
from kith.relationships.services import end_relationship
from kith.testing import log, make_home, make_org, make_person

D = dt.date
QUERIES = [
    *({"sort": [s], "page": [str(p)]} for s in ("-health", "health") for p in range(1, 7)),
    *({"band": [b]} for b in ("strong", "good", "fair", "weak", "cold")),
    *({"band": [b], "sort": ["-health"]} for b in ("good", "fair", "weak", "cold")),
    {"q": ["p1"], "sort": ["-health"]},
    {"org": ["Org 1"], "sort": ["health"]},
    {"org": ["Org 2"], "band": ["good"]},
]


@pytest.fixture
def world(time_travel: Any) -> dict[str, Any]:
    time_travel.to("2026-11-30T12:00:00Z")
    home = make_home()
    mia = make_person("Mia Team", org=home, since="2020-01-01")
    gail = make_person("Gail Team", org=home, since="2020-01-01")
    orgs = [make_org(f"Org {i}") for i in range(4)]
    people = []
    for i in range(14):
        org = orgs[i % 4]
        person = make_person(
            f"P{i}", org=org, role="champion" if i % 3 == 0 else "", since="2024-01-01"
        )
        people.append(person)
        for k in range(i % 5):  # some never met: cold, without a score
            when = D(2026, 11, 25) - dt.timedelta(days=40 * k + 9 * i)
            log("meeting" if k % 2 else "email", mia, person, at=f"{when}T10:00:00+00:00")
    log("meeting", gail, people[1], at="2026-11-20T10:00:00+00:00")
    for i in range(6):  # a tie that was strong and faded: at risk
        log("meeting", mia, people[5], at=f"{D(2026, 3, 1) + dt.timedelta(days=10 * i)}T10:00:00Z")
    gone = Relationship.objects.get(from_record=people[3], to_record=orgs[3])
    end_relationship(rel_id=gone.id, on="2026-11-01")  # a champion left Org 3
    rescore()
    return {"home": home, "mia": mia, "gail": gail, "orgs": orgs, "people": people}


def _stale() -> None:
    IntelState.objects.filter(key=DAY).update(value="")


def _pages(viewer: Viewer) -> list[Any]:
    out = []
    for type_key in ("person", "organization"):
        for params in QUERIES:
            if ("q" in params or "org" in params) and type_key == "organization":
                continue
            try:
                data = list_records(viewer, type_key, {**params, "cols": ["health"]}, size=3)
            except ValidationError as exc:  # past the last page: the same refusal
                out.append((type_key, params, exc.message))
                continue
            out.append((type_key, params, data["total"], data["rows"]))
    return out


def test_lists_and_at_risk_read_the_kept_scores_and_match_the_computed_ones(
    world: dict[str, Any],
) -> None:
    assert is_current() and KeptScore.objects.filter(type_key="person").count() >= 8
    delete_record(ref=world["people"][1].id)  # a deleted person in a band is not counted
    assert KeptScore.objects.get(record_id=world["people"][1].id).live == 0
    kept_pages, kept_risk = _pages(SYSTEM), at_risk_by_type(SYSTEM, 8)
    listed = [r for page in kept_pages if len(page) == 4 for r in page[3]]
    assert any(r["cells"]["health"]["score"] > 0 for r in listed)
    assert any(r["cells"]["health"]["score"] == 0 for r in listed)  # scored and unscored
    assert kept_risk["organization"] and kept_risk["person"]  # real lists, not empty ones
    _stale()
    assert _pages(SYSTEM) == kept_pages
    assert at_risk_by_type(SYSTEM, 8) == kept_risk


def test_the_kept_order_is_read_with_sql_not_by_scoring(world: dict[str, Any]) -> None:
    with CaptureQueriesContext(connection) as ctx:
        list_records(SYSTEM, "person", {"sort": ["-health"]})
    text = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "intelligence_keptscore" in text
    assert "intelligence_pairstat" not in text  # nothing was scored


def test_a_viewer_with_hidden_records_gets_their_own_scores(world: dict[str, Any]) -> None:
    """A hidden member of our team moves people's scores, a hidden person moves their
    organisation's: such a viewer's lists are computed from what they see, not kept."""
    users = get_user_model().objects
    owner = users.create_user(username="owner@our.test")
    viewer = Viewer(user_id=users.create_user(username="other@our.test").pk)
    hidden = world["people"][4]  # one of Org 0's people, met by Mia
    Record.objects.filter(pk__in=[hidden.pk, world["gail"].pk]).update(private=True, owner=owner)
    theirs = _pages(viewer)
    names = {r["name"] for page in theirs if len(page) == 4 for r in page[3]}
    assert hidden.name not in names
    _stale()
    assert _pages(viewer) == theirs  # computed either way
    rescore()
    org0 = world["orgs"][0].id
    everyone = {
        r["id"]: r for r in list_records(SYSTEM, "organization", {"cols": ["health"]})["rows"]
    }
    mine = {r["id"]: r for r in list_records(viewer, "organization", {"cols": ["health"]})["rows"]}
    assert mine[org0]["cells"]["health"] != everyone[org0]["cells"]["health"]
    p1 = world["people"][1].id  # Gail (hidden) met P1 too
    seen = {
        r["id"]: r for r in list_records(viewer, "person", {"cols": ["health"]}, size=50)["rows"]
    }
    all_ = {
        r["id"]: r for r in list_records(SYSTEM, "person", {"cols": ["health"]}, size=50)["rows"]
    }
    assert seen[p1]["cells"]["health"] != all_[p1]["cells"]["health"]


def test_hidden_people_move_only_their_organisations_which_are_computed_for_the_viewer(
    world: dict[str, Any],
) -> None:
    """With private people (none of our team) hidden from a viewer, people's kept scores are
    theirs, and so are organisations' but for those a hidden person works or worked at:
    those are computed from what the viewer sees; the lists equal a computation throughout."""
    users = get_user_model().objects
    owner = users.create_user(username="owner@our.test")
    viewer = Viewer(user_id=users.create_user(username="other@our.test").pk)
    hidden = [world["people"][4], world["people"][3]]  # Org 0's; Org 3's champion who left
    Record.objects.filter(pk__in=[p.pk for p in hidden]).update(private=True, owner=owner)
    mine = health_scores(viewer, "organization")
    theirs = compute(model_config(), dt.date(2026, 11, 30), viewer=viewer)
    assert mine == {o: s.score for o, s in theirs.orgs.items()}
    system = health_scores(SYSTEM, "organization")
    assert mine[world["orgs"][0].id] != system[world["orgs"][0].id]
    assert mine[world["orgs"][3].id] != system[world["orgs"][3].id]  # no departure for them
    assert mine[world["orgs"][1].id] == system[world["orgs"][1].id]  # kept as it is
    kept_pages = _pages(viewer)
    _stale()
    assert _pages(viewer) == kept_pages
