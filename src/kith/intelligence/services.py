"""Writes of the intelligence app: the pair-statistics table, rebuilt or updated in place.

``rebuild_pairstats`` recomputes the whole table with one set-based INSERT ... SELECT
GROUP BY; the event handlers keep it current one interaction (or one new team member) at
a time, so logging an interaction touches only the rows it contributes to.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F

from kith.intelligence import sql as q
from kith.intelligence.conf import model_config
from kith.intelligence.models import IntelState, PairStat

BUILT = "pairstats_built"
VERSION = "data_version"


def _select_sql(where: str) -> str:
    two_way_kinds = model_config()["two_way_kinds"]
    kinds_in, _ = q.in_list(list(two_way_kinds))
    team_sql, _ = q.ever_team_sql()
    day = q.day_expr("i.at")
    # one row per (member, other, interaction) first, so a person in two roles counts once
    return f"""
        SELECT member_id, person_id, kind, day, COUNT(*), SUM(two), SUM(is_in), SUM(is_out),
               COALESCE(SUM(sentiment), 0), COUNT(sentiment),
               COALESCE(SUM(score), 0), COUNT(score)
        FROM (
            SELECT m.record_id AS member_id, o.record_id AS person_id, i.kind AS kind,
                   {day} AS day,
                   MAX(CASE WHEN i.kind IN {kinds_in} OR i.direction = 'in' OR o.role = 'from'
                       THEN 1 ELSE 0 END) AS two,
                   MAX(CASE WHEN i.direction = 'in' THEN 1 ELSE 0 END) AS is_in,
                   MAX(CASE WHEN i.direction = 'out' THEN 1 ELSE 0 END) AS is_out,
                   MAX(i.sentiment) AS sentiment,
                   MAX(CASE WHEN i.kind = 'survey' THEN i.score END) AS score
            FROM {q.PART} m
            JOIN {q.PART} o ON o.interaction_id = m.interaction_id
                 AND o.record_id <> m.record_id AND o.role <> 'mentioned'
            JOIN {q.INTER} i ON i.id = m.interaction_id
            WHERE m.role <> 'mentioned' AND m.record_id IN ({team_sql}) {where}
            GROUP BY m.record_id, o.record_id, i.id, i.kind, {day}
        ) per_interaction
        GROUP BY member_id, person_id, kind, day
    """


def _select_params(extra: list[Any]) -> list[Any]:
    _, kind_params = q.in_list(list(model_config()["two_way_kinds"]))
    _, team_params = q.ever_team_sql()
    return [*kind_params, *team_params, *extra]


_COLUMNS = (
    "member_id, person_id, kind, day, n, n_two, n_in, n_out, sent_sum, sent_n, score_sum, score_n"
)


@transaction.atomic
def rebuild_pairstats(*, member_id: str | None = None) -> int:
    """Recompute the pair table (or one team member's rows) from the interactions."""
    from django.db import connection

    where, extra = ("AND m.record_id = %s", [member_id]) if member_id else ("", [])
    with connection.cursor() as cur:
        if member_id:
            cur.execute(f"DELETE FROM {q.PAIR} WHERE member_id = %s", [member_id])
        else:
            cur.execute(f"DELETE FROM {q.PAIR}")
        cur.execute(
            f"INSERT INTO {q.PAIR} ({_COLUMNS}) {_select_sql(where)}", _select_params(extra)
        )
        cur.execute(f"SELECT COUNT(*) FROM {q.PAIR}")
        count = int(cur.fetchone()[0])
    if not member_id:
        IntelState.objects.update_or_create(key=BUILT, defaults={"value": "1"})
    bump_version()
    return count


def bump_version() -> None:
    """Mark derived caches (scores, the network graph) stale."""
    state, _ = IntelState.objects.get_or_create(key=VERSION, defaults={"value": "0"})
    state.value = str(int(state.value or "0") + 1)
    state.save(update_fields=["value"])


def data_version() -> str:
    state = IntelState.objects.filter(key=VERSION).first()
    return state.value if state else "0"


def is_built() -> bool:
    return IntelState.objects.filter(key=BUILT, value="1").exists()


def ensure_pairstats() -> None:
    """Build the pair table on first use (e.g. a workspace loaded before this app existed)."""
    if not is_built():
        rebuild_pairstats()


@transaction.atomic
def apply_interaction(*, interaction_id: str) -> int:
    """Add one interaction's contribution to the pair table; returns the rows touched."""
    rows = q.fetch(_select_sql("AND m.interaction_id = %s"), _select_params([interaction_id]))
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
    if is_built():
        apply_interaction(interaction_id=interaction_id)
    bump_version()


def on_relationship_changed(*, relationship_id: str, **_: Any) -> None:
    """A new works_at to the home org makes a new team member: build that member's rows."""
    from kith.records.selectors import home_org
    from kith.relationships.models import Relationship

    rel = Relationship.objects.select_related("type").filter(pk=relationship_id).first()
    home = home_org()
    if (
        rel is not None
        and home is not None
        and rel.to_record_id == home.id
        and rel.type.rollup
        and is_built()
        and not PairStat.objects.filter(member_id=rel.from_record_id).exists()
    ):
        rebuild_pairstats(member_id=rel.from_record_id)
    bump_version()


def on_bulk_loaded(**_: Any) -> None:
    rebuild_pairstats()
