"""What moves the data and history versions, and the past snapshot at-risk compares with."""

from __future__ import annotations

import datetime as dt

from kith.core import clock
from kith.core.viewer import SYSTEM
from kith.intelligence.conf import model_config
from kith.intelligence.engine import compute
from kith.intelligence.selectors import at_risk, past_snapshot
from kith.intelligence.services import data_version, history_version
from kith.testing import log, make_home, make_org, make_person, relate


def _stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T12:00:00+00:00"


def test_recent_interactions_leave_history_alone_and_old_ones_move_it() -> None:
    home = make_home()
    mia = make_person("Mia Team", org=home, since="2020-01-01")
    jane = make_person("Jane Doe", org=make_org("Acme"), role="champion")
    today = clock.today()
    before = (data_version(), history_version())
    log("call", mia, jane, at=_stamp(today - dt.timedelta(days=3)))
    after_recent = (data_version(), history_version())
    assert after_recent[0] != before[0] and after_recent[1] == before[1]
    log("call", mia, jane, at=_stamp(today - dt.timedelta(days=200)))
    after_old = (data_version(), history_version())
    assert after_old[0] != after_recent[0] and after_old[1] != after_recent[1]
    relate(jane, "knows", mia)  # relationships reach into the past (since may be empty)
    assert history_version() != after_old[1]


def test_at_risk_with_the_kept_past_snapshot_equals_a_fresh_computation() -> None:
    home = make_home()
    mia = make_person("Mia Team", org=home, since="2020-01-01")
    acme = make_org("Acme")
    jane = make_person("Jane Doe", org=acme, role="champion", since="2024-01-01")
    today = clock.today()
    for weeks in range(30, 12, -2):  # a tie that was strong and has faded
        log("meeting", mia, jane, at=_stamp(today - dt.timedelta(weeks=weeks)))
    cfg = model_config()
    start = today - dt.timedelta(days=cfg["trend_days"])
    kept = past_snapshot(cfg, start, SYSTEM)
    first = at_risk(SYSTEM, limit=50)
    assert any(r["id"] == acme.id for r in first)
    log("call", mia, jane, at=_stamp(today))  # today: the kept snapshot stays valid
    assert past_snapshot(cfg, start, SYSTEM) is kept
    assert kept.orgs[acme.id].score == compute(cfg, start).orgs[acme.id].score
    log("call", mia, jane, at=_stamp(start - dt.timedelta(days=5)))  # before the window
    fresh = past_snapshot(cfg, start, SYSTEM)
    assert fresh is not kept
    assert fresh.person_score[jane.id] == compute(cfg, start).person_score[jane.id]
    assert fresh.person_score[jane.id] != kept.person_score[jane.id]
