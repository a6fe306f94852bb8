"""A record's own timeline (no employees) is read from where a page fills: two queries, and
the same page as every item sorted."""

from __future__ import annotations

import datetime as dt
import random

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kith import testing
from kith.core.viewer import SYSTEM
from kith.interactions import selectors
from kith.interactions.services import log_interaction


def _ids(record, **kwargs) -> list[str]:  # type: ignore[no-untyped-def]
    return [i["id"] for i in selectors.timeline(SYSTEM, record, **kwargs)]


def _timeline_queries(record, **kwargs) -> int:  # type: ignore[no-untyped-def]
    """How many queries find the page's items (the views' own three not counted)."""
    with CaptureQueriesContext(connection) as q:
        selectors.timeline(SYSTEM, record, **kwargs)
    return sum(1 for x in q.captured_queries if "GROUP BY t.interaction_id" in x["sql"]) + 1


def test_a_sparse_person_timeline_takes_one_query_for_its_items() -> None:
    jane, deal = testing.make_person("Jane"), testing.make_org("Deal Co")
    for days in (2, 40, 400, 1200):  # years apart: every window used to be tried in turn
        testing.log("call", jane, at=f"{2026 - days // 365}-01-{1 + days % 28:02d}T10:00Z")
    testing.log("email", jane, links=(deal,), at="2026-02-01T10:00Z")
    assert len(_ids(jane, limit=20)) == 5
    assert _timeline_queries(jane, limit=20) == 2  # the newest/k/holders seek, then one page


def test_pages_from_the_kth_item_equal_every_item_sorted() -> None:
    rng = random.Random(18)
    jane, other, deal = (
        testing.make_person("Jane"),
        testing.make_person("Ola"),
        testing.make_org("Deal Co"),
    )
    start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    made: list[tuple[dt.datetime, str, str]] = []
    for n in range(60):
        at = start + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 900))
        if n % 7 == 0:
            at = made[-1][0] if made else at  # items sharing a second
        kind = rng.choice(["call", "email", "meeting"])
        participants = [(jane.id, None)] if n % 5 else [(other.id, None)]
        # linked and taking part in one interaction: one item on its timeline, not two
        links = [deal.id] if n % 3 == 0 else []
        if n % 11 == 0:
            participants, links = [(jane.id, None)], [jane.id]
        interaction, _ = log_interaction(
            kind=kind, participants=participants, links=links, at=at, subject=f"n{n}"
        )
        if n % 5 or n % 11 == 0:
            made.append((at, interaction.id, kind))
    newest_first = sorted(made, key=lambda m: (m[0], m[1]), reverse=True)
    every = [m[1] for m in newest_first]
    for limit in (1, 7, 20, len(every), len(every) + 5):
        assert _ids(jane, limit=limit) == every[:limit]
    calls = [m[1] for m in newest_first if m[2] == "call"]
    assert _ids(jane, limit=5, kinds=["call"]) == calls[:5]  # fewer in the k window: wider
    cut = newest_first[12][0]
    assert _ids(jane, limit=6, before=cut) == [m[1] for m in newest_first if m[0] < cut][:6]
    # paging by cursor walks every item once, in order
    seen: list[str] = []
    older_than = None
    while True:
        page = selectors.timeline(SYSTEM, jane, limit=8, older_than=older_than)
        seen += [i["id"] for i in page]
        if len(page) < 8:
            break
        older_than = selectors.parse_timeline_cursor(selectors.timeline_cursor(page[-1]))
    assert seen == every
