"""Scores on hand-built histories with known answers."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from kith.core.errors import ValidationError
from kith.core.viewer import SYSTEM
from kith.dedupe.services import merge_records
from kith.imports.services import import_file
from kith.intelligence import services
from kith.intelligence.conf import model_config
from kith.intelligence.engine import compute
from kith.intelligence.models import PairStat
from kith.intelligence.scoring import PairAgg, pair_strength, strength_fn
from kith.intelligence.selectors import at_risk, best, health, strength
from kith.intelligence.services import rebuild_pairstats
from kith.relationships.models import Relationship
from kith.relationships.services import end_relationship
from kith.testing import log, make_home, make_org, make_person, relate

D = dt.date


def at(day: D, hour: int = 10) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00+00:00"


@pytest.fixture
def world():
    home = make_home()
    mia = make_person("Mia Team", org=home, since="2020-01-01")
    ben = make_person("Ben Team", org=home, since="2020-01-01")
    acme = make_org("Acme")
    jane = make_person("Jane Doe", org=acme, role="champion", since="2024-01-01")
    raj = make_person("Raj Roe", org=acme, role="engineer", since="2024-01-01")
    return {"home": home, "mia": mia, "ben": ben, "acme": acme, "jane": jane, "raj": raj}


def meetings(a, b, start: D, every: int, count: int) -> D:
    day = start
    for i in range(count):
        day = start + dt.timedelta(days=every * i)
        log("meeting", a, b, at=at(day))
    return day


def test_fading_tie_names_gap_and_cadence(world):
    last = meetings(world["mia"], world["jane"], D(2026, 5, 1), 14, 6)
    fresh = strength(SYSTEM, "Mia Team", "Jane Doe", as_of=last)
    faded = strength(SYSTEM, "Mia Team", "Jane Doe", as_of=last + dt.timedelta(days=64))
    assert fresh["cadence_days"] == 14
    assert faded["reasons"][0] == "no two-way contact in 64 days; usual cadence is 14 days"
    assert faded["score"] < fresh["score"] / 1.5
    assert fresh["band"] in {"good", "strong", "fair"}
    # factors add up to the score
    assert abs(sum(f["contribution"] for f in faded["factors"]) - faded["score"]) < 0.5
    # either order of the two people means the same tie
    assert strength(SYSTEM, "Jane Doe", "Mia Team", as_of=last)["score"] == fresh["score"]


def test_long_ties_decay_slower(world):
    old = make_person("Old Friend")
    meetings(world["mia"], old, D(2024, 1, 1), 30, 26)  # two years, monthly
    new = make_person("New Face")
    meetings(world["mia"], new, D(2025, 10, 1), 30, 2)
    last_old = D(2024, 1, 1) + dt.timedelta(days=30 * 25)
    gap = 120
    long_tie = strength(SYSTEM, "Mia Team", "Old Friend", as_of=last_old + dt.timedelta(days=gap))
    short_tie = strength(
        SYSTEM, "Mia Team", "New Face", as_of=D(2025, 10, 31) + dt.timedelta(days=gap)
    )
    rec = {f["name"]: f["value"] for f in long_tie["factors"]}["recency"]
    rec_short = {f["name"]: f["value"] for f in short_tie["factors"]}["recency"]
    assert rec > rec_short


def test_one_way_outreach_is_no_relationship(world):
    for i in range(5):
        log("email", world["mia"], world["raj"], at=at(D(2026, 6, 1 + i)), direction="out")
    view = strength(SYSTEM, "Mia Team", "Raj Roe", as_of=D(2026, 7, 1))
    assert view["score"] == 0
    assert view["band"] == "cold"
    assert "only one-way outreach" in view["reasons"][0]
    # one reply makes it two-way
    log("email", world["raj"], world["mia"], at=at(D(2026, 6, 10)), direction="in")
    assert strength(SYSTEM, "Mia Team", "Raj Roe", as_of=D(2026, 7, 1))["score"] > 0


def test_single_threaded_account(world):
    meetings(world["mia"], world["jane"], D(2026, 6, 1), 14, 6)
    meetings(world["mia"], world["raj"], D(2026, 6, 2), 14, 6)
    view = health(SYSTEM, "Acme", as_of=D(2026, 8, 20))
    assert "only one of our people talks to Acme (Mia Team)" in view["reasons"]
    threading = {f["name"]: f["value"] for f in view["factors"]}["threading"]
    assert threading == 0.3
    meetings(world["ben"], world["raj"], D(2026, 6, 3), 14, 6)
    view2 = health(SYSTEM, "Acme", as_of=D(2026, 8, 20))
    assert not any(r.startswith("only one of our people") for r in view2["reasons"])
    assert view2["score"] > view["score"]


def test_departed_champion(world):
    meetings(world["mia"], world["jane"], D(2026, 6, 1), 14, 6)
    rel = Relationship.objects.get(from_record=world["jane"], to_record=world["acme"])
    end_relationship(rel_id=rel.id, on="2026-09-01")
    before = health(SYSTEM, "Acme", as_of=D(2026, 8, 20))
    after = health(SYSTEM, "Acme", as_of=D(2026, 9, 15))
    assert not any("left Acme" in r for r in before["reasons"])
    assert "champion Jane Doe left Acme on 2026-09-01" in after["reasons"]
    assert any(f["name"] == "risk_events" for f in after["factors"])
    risky = at_risk(SYSTEM, as_of=D(2026, 9, 15), kind="organization")
    assert risky and risky[0]["name"] == "Acme"
    assert "champion Jane Doe left" in risky[0]["reasons"]


def test_nps_drop(world):
    meetings(world["mia"], world["jane"], D(2026, 3, 1), 14, 16)
    for day, score in [(D(2026, 6, 5), 9), (D(2026, 6, 20), 9), (D(2026, 9, 10), 5)]:
        log("survey", world["mia"], world["jane"], at=at(day), score=score, direction="in")
    view = health(SYSTEM, "Acme", as_of=D(2026, 10, 1))
    assert "average survey score fell from 9 to 5 (0-10) since July" in view["reasons"]


def test_person_health_breadth_and_history(world):
    meetings(world["mia"], world["jane"], D(2026, 6, 1), 14, 6)
    one = health(SYSTEM, "Jane Doe", as_of=D(2026, 8, 15))
    meetings(world["ben"], world["jane"], D(2026, 6, 2), 14, 6)
    two = health(SYSTEM, "Jane Doe", as_of=D(2026, 8, 15))
    assert two["score"] > one["score"]
    assert "2 of our people are in touch with Jane Doe" in two["reasons"]
    # the past is unchanged by what came later, and is the same computed twice
    assert health(SYSTEM, "Jane Doe", as_of=D(2026, 5, 1))["score"] == 0
    series = health(SYSTEM, "Jane Doe", as_of=D(2026, 8, 15), trend=True, periods=4)["trend"]
    assert [p["as_of"] for p in series] == ["2026-05-31", "2026-06-30", "2026-07-31", "2026-08-15"]
    assert series[0]["score"] == 0 and series[-1]["score"] > 0


def test_errors_are_clear(world):
    with pytest.raises(ValidationError, match="neither"):
        strength(SYSTEM, "Jane Doe", "Raj Roe")
    with pytest.raises(ValidationError, match="our own organisation"):
        health(SYSTEM, "Our Co")
    with pytest.raises(ValidationError, match="on our team"):
        health(SYSTEM, "Mia Team")


def test_incremental_equals_full_rebuild(world):
    meetings(world["mia"], world["jane"], D(2026, 6, 1), 14, 3)
    rebuild_pairstats()  # now built: later logs update it in place

    def rows():
        return sorted(
            PairStat.objects.values_list(
                "member_id",
                "person_id",
                "kind",
                "day",
                "n",
                "n_two",
                "n_in",
                "n_out",
                "sent_sum",
                "sent_n",
                "score_sum",
                "score_n",
            )
        )

    log("meeting", world["mia"], world["jane"], at=at(D(2026, 6, 1), 15))  # same day: update
    log("email", world["raj"], world["ben"], at=at(D(2026, 7, 1)), direction="in", sentiment=0.5)
    log("survey", world["mia"], world["raj"], at=at(D(2026, 7, 2)), score=7)
    incremental = rows()
    rebuild_pairstats()
    assert rows() == incremental
    assert len(incremental) == 5
    # a new team member: their history is picked up when they join
    newbie = make_person("Nia New")
    log("call", newbie, world["raj"], at=at(D(2026, 7, 5)))
    relate(newbie, "works_at", world["home"], since="2026-07-01")
    assert PairStat.objects.filter(member_id=newbie.id).count() == 1


def test_weights_are_configurable(world, monkeypatch):
    log("email", world["mia"], world["jane"], at=at(D(2026, 6, 1)), direction="in")
    base = strength(SYSTEM, "Mia Team", "Jane Doe", as_of=D(2026, 6, 10))
    monkeypatch.setenv("KITH_INTELLIGENCE", json.dumps({"kind_weights": {"email": 3.0}}))
    heavier = strength(SYSTEM, "Mia Team", "Jane Doe", as_of=D(2026, 6, 10))
    assert heavier["score"] > base["score"]
    monkeypatch.setenv("KITH_INTELLIGENCE", json.dumps({"nonsense": 1}))
    with pytest.raises(ValidationError, match="unknown parameter 'nonsense'"):
        strength(SYSTEM, "Mia Team", "Jane Doe")


def test_best_ranks_by_value_and_health(world):
    meetings(world["mia"], world["jane"], D(2026, 6, 1), 7, 10)
    globex = make_org("Globex")
    gus = make_person("Gus Globex", org=globex)
    meetings(world["ben"], gus, D(2026, 7, 1), 30, 2)
    rows = best(SYSTEM, as_of=D(2026, 8, 15), kind="organization")
    assert [r["name"] for r in rows] == ["Acme", "Globex"]
    assert rows[0]["value"] > rows[1]["value"]


def test_batch_path_equals_explained_path(world):
    meetings(world["mia"], world["jane"], D(2026, 1, 1), 20, 9)
    log("email", world["ben"], world["jane"], at=at(D(2026, 5, 2)), direction="out")
    log("email", world["jane"], world["ben"], at=at(D(2026, 5, 3)), direction="in")
    cfg, day = model_config(), D(2026, 7, 1)
    snap = compute(cfg, day)
    assert snap.person_score[world["jane"].id] == snap.person(world["jane"].id).score
    for days in [(D(2026, 1, 1), D(2026, 6, 1), 5), (D(2025, 1, 1), D(2025, 2, 1), 1)]:
        a = PairAgg(
            n=7,
            n_two=5,
            first_two=days[0],
            last_two=days[1],
            two_days=days[2],
            recent_weight=4.0,
            depth_sum=9.0,
        )
        fast = strength_fn(cfg, day)(7, 5, days[0], days[1], days[2], 4.0, 9.0)
        assert fast == pytest.approx(pair_strength(cfg, a, day).score)


def test_merge_keeps_pair_table_exact(world):
    rebuild_pairstats()
    twin = make_person("Jane D.")
    meetings(world["mia"], world["jane"], D(2026, 6, 1), 14, 3)
    meetings(world["mia"], twin, D(2026, 6, 8), 14, 3)
    log("email", world["ben"], twin, at=at(D(2026, 6, 9)), direction="out")
    merge_records(keep=world["jane"].id, other=twin.id)

    def rows():
        return sorted(
            PairStat.objects.values_list("member_id", "person_id", "kind", "day", "n", "n_two")
        )

    merged = rows()
    rebuild_pairstats()
    assert rows() == merged
    assert not PairStat.objects.filter(person_id=twin.id).exists()
    assert strength(SYSTEM, "Mia Team", "Jane Doe", as_of=D(2026, 7, 15))["two_way"] == 6


def test_a_silent_account_says_how_long_since_anyone_there_was_in_two_way_contact(
    time_travel: Any,
) -> None:
    home = make_home()
    mia = make_person("Mia Team", org=home, since="2020-01-01")
    fadeco = make_org("Fadeco")
    raj = make_person("Raj Roe", org=fadeco, since="2024-01-01")
    log("meeting", mia, raj, at="2026-02-15T10:00:00Z")
    time_travel.to("2026-06-15T12:00:00Z")
    reasons = health(SYSTEM, "Fadeco")["reasons"]
    assert "no two-way contact with anyone at Fadeco for 120 days (last on 2026-02-15)" in reasons
    assert not any("nobody on our team talks to" in r for r in reasons)


def test_a_small_import_refreshes_only_the_pairs_it_touched_and_they_equal_a_rebuild(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = make_home()
    mia = make_person("Mia Team", org=home, since="2020-01-01", email="mia@our.test")
    ann = make_person("Ann Lee", org=make_org("Acme"), email="ann@acme.test")
    log("meeting", mia, ann, at="2025-06-01T10:00:00Z")
    rebuild_pairstats()

    def rows() -> list[tuple[Any, ...]]:
        return sorted(PairStat.objects.values_list(*[f.name for f in PairStat._meta.fields][1:]))

    box = tmp_path / "box.mbox"
    box.write_text(
        "".join(
            f"From x Mon Jan  1 00:00:00 2024\nFrom: Mia Team <mia@our.test>\nTo: {to}\n"
            f"Subject: m{n}\nDate: Mon, {n} Jun 2025 10:00:00 +0000\nMessage-ID: <m{n}@t>\n\nhi\n\n"
            for n, to in enumerate(["ann@acme.test", "Bo Park <bo@acme.test>", "ann@acme.test"], 1)
        )
    )
    rebuilds: list[int] = []
    real = services.rebuild_pairstats
    monkeypatch.setattr(services, "rebuild_pairstats", lambda **k: rebuilds.append(1) or real(**k))
    assert import_file(viewer=SYSTEM, path=str(box))["counts"]["interactions_created"] == 3
    assert rebuilds == []  # refreshed, not rebuilt
    after_import = rows()
    real()
    assert after_import == rows() and len(after_import) > 1
