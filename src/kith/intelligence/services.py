"""Writes of the intelligence app: the pair-statistics table, rebuilt or updated in place.

``rebuild_pairstats`` recomputes the whole table with one set-based INSERT ... SELECT
GROUP BY; the event handlers keep it current one interaction (or one new team member) at
a time, so logging an interaction touches only the rows it contributes to.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.db.models import F

from kith.core import clock, counters
from kith.intelligence import sql as q
from kith.intelligence.conf import model_config
from kith.intelligence.models import IntelState, PairStat
from kith.interactions.models import Interaction
from kith.records.models import Record
from kith.records.selectors import home_org
from kith.relationships.models import Relationship

BUILT = "pairstats_built"
PERSON_INDEX = "pairstat_person_day"  # the model's index by (person, day), under any later name
VERSION = "data_version"
HISTORY = "history_version"


def _select_sql(where: str, *, full: bool = False) -> str:
    two_way_kinds = model_config()["two_way_kinds"]
    kinds_in, _ = q.in_list(list(two_way_kinds))
    team_sql, _ = q.ever_team_sql()
    day = q.day_expr("i.at")
    # SQLite: scan the interactions in storage order and read both ends of each from the
    # participants' (interaction, record, role) index; CROSS JOIN fixes that join order and
    # the unary plus keeps the team filter from driving the plan (3x faster on 1M rows).

    forced = full and connection.vendor == "sqlite"
    join, plus = ("CROSS JOIN", "+") if forced else ("JOIN", "")
    # a person in two roles of one interaction counts once: only their first role's row
    # (by name) joins; "from" in any of their roles still makes it two-way. A negative one
    # (sentiment < 0) is contact, never engagement: it counts in n, not as two-way, so an
    # angry call cannot raise a tie's strength or health (its sentiment still counts)
    return f"""
        SELECT m.record_id, o.record_id, i.kind, {day}, COUNT(*),
               SUM(CASE WHEN COALESCE(i.sentiment, 0) >= 0 AND (
                   i.kind IN {kinds_in} OR i.direction = 'in' OR o.role = 'from'
                   OR EXISTS (SELECT 1 FROM {q.PART} f WHERE f.interaction_id = o.interaction_id
                              AND f.record_id = o.record_id AND f.role = 'from'))
                   THEN 1 ELSE 0 END),
               SUM(CASE WHEN i.direction = 'in' THEN 1 ELSE 0 END),
               SUM(CASE WHEN i.direction = 'out' THEN 1 ELSE 0 END),
               COALESCE(SUM(i.sentiment), 0), COUNT(i.sentiment),
               COALESCE(SUM(CASE WHEN i.kind = 'survey' THEN i.score END), 0),
               COUNT(CASE WHEN i.kind = 'survey' THEN i.score END)
        FROM {q.INTER} i
        {join} {q.PART} m ON m.interaction_id = i.id AND m.role <> 'mentioned'
             AND {plus}m.record_id IN ({team_sql})
             AND NOT EXISTS (SELECT 1 FROM {q.PART} m2 WHERE m2.interaction_id = m.interaction_id
                             AND m2.record_id = m.record_id AND m2.role < m.role
                             AND m2.role <> 'mentioned')
        {join} {q.PART} o ON o.interaction_id = i.id
             AND o.record_id <> m.record_id AND o.role <> 'mentioned'
             AND NOT EXISTS (SELECT 1 FROM {q.PART} o2 WHERE o2.interaction_id = o.interaction_id
                             AND o2.record_id = o.record_id AND o2.role < o.role
                             AND o2.role <> 'mentioned')
        WHERE 1 = 1 {where}
        GROUP BY m.record_id, o.record_id, i.kind, {day}
    """


def _select_params(extra: list[Any]) -> list[Any]:
    _, kind_params = q.in_list(list(model_config()["two_way_kinds"]))
    _, team_params = q.ever_team_sql()
    return [*kind_params, *team_params, *extra]


_COLUMNS = (
    "member_id, person_id, kind, day, n, n_two, n_in, n_out, sent_sum, sent_n, score_sum, score_n"
)


def _person_index(cur: Any) -> tuple[str, list[str]] | None:
    """The pair table's index by person and day: its name and columns, as the database has it."""
    for name, c in connection.introspection.get_constraints(cur, q.PAIR).items():
        if c.get("index") and not c.get("unique") and name.startswith(PERSON_INDEX):
            return name, list(c["columns"])
    return None


@transaction.atomic
def rebuild_pairstats(*, member_id: str | None = None) -> int:
    """Recompute the pair table (or one team member's rows) from the interactions."""
    where, extra = ("AND m.record_id = %s", [member_id]) if member_id else ("", [])
    index = None
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":  # reads the whole file: map part of it, fewer reads
            # bounded: mapped pages count as the process's memory (imports must stay < 500 MB)
            cur.execute("PRAGMA mmap_size = 268435456")
        if member_id:
            cur.execute(f"DELETE FROM {q.PAIR} WHERE member_id = %s", [member_id])
        else:
            cur.execute(f"DELETE FROM {q.PAIR}")
            # a million random-order index inserts cost more than one sorted index build;
            # the index as it is now (a migration's data step runs before later ones change it)
            index = _person_index(cur)
            if index:
                cur.execute(f"DROP INDEX {index[0]}")
        cur.execute(
            f"INSERT INTO {q.PAIR} ({_COLUMNS}) {_select_sql(where, full=not member_id)}",
            _select_params(extra),
        )
        if index:  # the same index again (name and columns)
            cur.execute(f"CREATE INDEX {index[0]} ON {q.PAIR} ({', '.join(index[1])})")
        cur.execute(f"SELECT COUNT(*) FROM {q.PAIR}")
        count = int(cur.fetchone()[0])
        if connection.vendor == "sqlite":
            cur.execute("PRAGMA mmap_size = 0")
    if not member_id:
        IntelState.objects.update_or_create(key=BUILT, defaults={"value": "1"})
    bump_version()
    return count


def bump_version(*, day: dt.date | None = None) -> None:
    """Mark derived caches (scores, the network graph) stale: once per transaction.

    Two counters (atomic, see :mod:`kith.core.counters`): the data version moves with
    every change; the history version only with changes that can reach back before the
    trend window (``day``: the one day a change touched, e.g. a logged interaction's; None:
    anything). Snapshots as of the start of the trend window (at-risk compares with them)
    stay valid while the history version holds.
    """
    counters.bump(VERSION)
    window = dt.timedelta(days=int(model_config()["trend_days"]) - 1)  # a day's margin for zones
    if day is None or day <= clock.today() - window:
        counters.bump(HISTORY)


def data_version() -> str:
    """Return the data version (moves with every committed change of scored data)."""
    return str(counters.value(VERSION))


def history_version() -> str:
    """Return the history version (moves with changes reaching before the trend window)."""
    return str(counters.value(HISTORY))


def is_built() -> bool:
    return IntelState.objects.filter(key=BUILT, value="1").exists()


def ensure_pairstats() -> None:
    """Build the pair table if it never was (maintenance: reads never call this)."""
    if not is_built():
        rebuild_pairstats()


@transaction.atomic
def apply_interaction(*, interaction_id: str) -> int:
    """Add one interaction's contribution to the pair table; returns the rows touched."""
    rows = q.fetch(_select_sql("AND i.id = %s"), _select_params([interaction_id]))
    for member, person, kind, raw_day, n, two, n_in, n_out, s_sum, s_n, sc_sum, sc_n in rows:
        day = q.as_date(raw_day)
        assert day is not None
        stat, created = PairStat.objects.get_or_create(
            member_id=member,
            person_id=person,
            kind=kind,
            day=day,
            defaults={
                "n": n,
                "n_two": two,
                "n_in": n_in,
                "n_out": n_out,
                "sent_sum": s_sum,
                "sent_n": s_n,
                "score_sum": sc_sum,
                "score_n": sc_n,
            },
        )
        if not created:
            PairStat.objects.filter(pk=stat.pk).update(
                n=F("n") + n,
                n_two=F("n_two") + two,
                n_in=F("n_in") + n_in,
                n_out=F("n_out") + n_out,
                sent_sum=F("sent_sum") + s_sum,
                sent_n=F("sent_n") + s_n,
                score_sum=F("score_sum") + sc_sum,
                score_n=F("score_n") + sc_n,
            )
    return len(rows)


# --- event handlers (run inside the writer's transaction) ---------------------------------


def on_interaction_logged(*, interaction_id: str, **_: Any) -> None:
    apply_interaction(interaction_id=interaction_id)
    at = Interaction.objects.filter(pk=interaction_id).values_list("at", flat=True).first()
    bump_version(day=at.astimezone(dt.UTC).date() if at else None)


def on_interaction_changed(*, record_ids: list[str], since: str, **_: Any) -> None:
    """An interaction was corrected, deleted or restored: recount its people's pair rows
    (exactly, from what is stored now) and mark scores from ``since`` on stale."""
    refresh_people(people=record_ids)
    bump_version(day=dt.date.fromisoformat(since))


def on_relationship_changed(*, relationship_id: str, **_: Any) -> None:
    """A new works_at to the home org makes a new team member: build that member's rows."""
    rel = Relationship.objects.select_related("type").filter(pk=relationship_id).first()
    home = home_org()
    if (
        rel is not None
        and home is not None
        and rel.to_record_id == home.id
        and rel.type.rollup
        and not PairStat.objects.filter(member_id=rel.from_record_id).exists()
    ):
        rebuild_pairstats(member_id=rel.from_record_id)
    bump_version()


@transaction.atomic
def refresh_record(*, record_id: str) -> None:
    """Recompute every pair row of one person (after a merge moved interactions to them)."""
    with connection.cursor() as cur:
        cur.execute(
            f"DELETE FROM {q.PAIR} WHERE person_id = %s OR member_id = %s", [record_id, record_id]
        )
        for where in ("AND o.record_id = %s", "AND m.record_id = %s"):
            cur.execute(
                f"INSERT INTO {q.PAIR} ({_COLUMNS}) {_select_sql(where)}",
                _select_params([record_id]),
            )
    bump_version()


def on_record_changed(*, record_id: str, **_: Any) -> None:
    """Merges move interactions between records: keep both records' rows exact."""
    if Record.objects.filter(pk=record_id, type_id="person").exists():
        refresh_record(record_id=record_id)
    else:  # an organisation renamed, deleted or restored: its scores change too
        bump_version()


REFRESH_AT_MOST = 2_000  # records an import touched, refreshed one by one; more: a rebuild


@transaction.atomic
def refresh_people(*, people: list[str]) -> None:
    """Recompute the pair rows in which these records are the other side (all their pairs
    with our team): every pair an imported interaction touched has one of its participants
    there, so the cost follows what an import touched, not the whole workspace."""
    with connection.cursor() as cur:
        for person_id in people:
            cur.execute(f"DELETE FROM {q.PAIR} WHERE person_id = %s", [person_id])
            cur.execute(
                f"INSERT INTO {q.PAIR} ({_COLUMNS}) {_select_sql('AND o.record_id = %s')}",
                _select_params([person_id]),
            )
    bump_version()


def on_bulk_loaded(*, people: list[str] | None = None, **_: Any) -> None:
    """A bulk load or import: refresh the people it touched when it says which and they are
    few (a small import into a big workspace); else rebuild the pair table."""
    if people is not None and len(people) <= REFRESH_AT_MOST and is_built():
        refresh_people(people=people)
    else:
        rebuild_pairstats()
