"""A negative call is contact, not engagement: it never raises health (issue 11)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kith.core.viewer import SYSTEM
from kith.intelligence.selectors import health, strength
from kith.intelligence.services import rebuild_pairstats
from kith.testing import log, make_home, make_org, make_person


def _world(time_travel: Any) -> dict[str, Any]:
    time_travel.to("2026-01-05T09:00:00Z")
    home = make_home()
    sam = make_person("Sam Seller", org=home, since="2020-01-01")
    acme = make_org("Acme")
    jane = make_person("Jane Doe", org=acme, role="CTO", since="2020-01-01")
    for i in range(8):
        day = dt.date(2026, 1, 5) + dt.timedelta(days=14 * i)
        log("meeting", sam, jane, at=f"{day.isoformat()}T10:00:00Z")
    time_travel.to("2026-07-01T12:00:00Z")  # the tie has cooled since the last meeting
    return {"sam": sam, "jane": jane, "acme": acme}


def test_a_negative_call_does_not_raise_health(time_travel: Any) -> None:
    w = _world(time_travel)
    person = health(SYSTEM, "Jane Doe")["score"]
    org = health(SYSTEM, "Acme")["score"]
    tie = strength(SYSTEM, "Sam Seller", "Jane Doe")
    log("call", w["sam"], w["jane"], sentiment="negative", subject="Complaint")
    assert health(SYSTEM, "Jane Doe")["score"] <= person
    assert health(SYSTEM, "Acme")["score"] <= org
    after = strength(SYSTEM, "Sam Seller", "Jane Doe")
    assert after["score"] <= tie["score"]
    assert after["last_two_way"] == tie["last_two_way"]  # contact, not engagement
    assert after["interactions"] == tie["interactions"] + 1
    # the table rebuilt from scratch says the same as the incremental upkeep
    rebuild_pairstats()
    assert strength(SYSTEM, "Sam Seller", "Jane Doe")["score"] == after["score"]


def test_a_neutral_or_positive_call_still_raises_it(time_travel: Any) -> None:
    w = _world(time_travel)
    before = health(SYSTEM, "Jane Doe")["score"]
    log("call", w["sam"], w["jane"], sentiment="positive", subject="Renewal")
    raised = health(SYSTEM, "Jane Doe")["score"]
    assert raised > before
    time_travel.to("2026-07-08T12:00:00Z")
    log("call", w["sam"], w["jane"], subject="Catch-up")  # no sentiment recorded: engagement
    assert strength(SYSTEM, "Sam Seller", "Jane Doe")["last_two_way"] == "2026-07-08"
