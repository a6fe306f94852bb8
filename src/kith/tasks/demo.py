"""Keep-in-touch cadences and tasks on the demo workspace, so the screens that show them
(the home page's keep-in-touch card, the tasks page, kith due) have something to show."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from kith.core import clock
from kith.core.viewer import SYSTEM
from kith.intelligence import aggregates as agg
from kith.relationships.selectors import team_ids
from kith.tasks.cadence_services import scan_cadences, set_cadence
from kith.tasks.services import create_task

# (every, max) days for the account and for its best-connected people, in that order: the
# shorter ones are overdue on demo data that has gaps, so the due list shows every state
CADENCES = [(14, 21), (21, 30), (30, 45), (60, 90)]


@transaction.atomic
def seed_demo_tasks(account_id: str) -> dict[str, Any]:
    """Cadences on the account and three of its people, the daily scan's tasks for those
    overdue, and three tasks by hand: ours due soon, ours overdue, and a commitment of theirs."""
    today = clock.today()
    team = set(team_ids(today))
    staff = sorted(p for p, _, _ in agg.employment(today, account_id) if p not in team)
    refs = [account_id, *staff[: len(CADENCES) - 1]]
    for ref, (every, most) in zip(refs, CADENCES, strict=False):
        set_cadence(viewer=SYSTEM, ref=ref, every=every, max_days=most)
    contact = staff[0] if staff else account_id
    made = [
        create_task(
            viewer=SYSTEM,
            title="Send the renewal proposal",
            due=today + dt.timedelta(days=3),
            about=[account_id],
            priority="high",
        ),
        create_task(
            viewer=SYSTEM,
            title="Call back about the pilot feedback",
            due=today - dt.timedelta(days=4),
            about=[contact, account_id],
            complete_on="call",
        ),
        create_task(
            viewer=SYSTEM,
            title="Procurement sign-off on the order form",
            due=today + dt.timedelta(days=10),
            about=[account_id],
            party="theirs",
        ),
    ]
    scanned = scan_cadences(today)
    return {"cadences": len(refs), "tasks": len(made), "scan": scanned}
