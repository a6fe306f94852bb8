"""Reads of the kept scores (``KeptScore``): is the table current, whose scores it gives,
and the list orderings, band filters and at-risk ranking read from it with an index.

The table holds the system's scores as of one day (see ``kept_services``). A viewer gets
them only when they equal what that viewer's own computation would say: everyone who is
hidden nothing; for people, also anyone from whom no member of our team is hidden (a
person's health is built from our team's ties with them, and a hidden person is not
listed at all). Anyone else, any day but the table's and any other configuration, is
computed from the data as before (``engine.compute``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models import Exists, FloatField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from kith.core import clock
from kith.core.viewer import Viewer
from kith.intelligence.conf import model_config
from kith.intelligence.models import IntelState, KeptScore
from kith.records.models import Record
from kith.records.selectors import hidden_ids, hides_any
from kith.relationships.selectors import team_ids

DAY = "scores_day"  # the day the kept scores are as of ("" while a full rescore is due)
CONFIG = "scores_config"  # the scoring configuration they were computed with


def config_key(cfg: dict[str, Any] | None = None) -> str:
    """A short fingerprint of the scoring configuration."""
    text = json.dumps(cfg if cfg is not None else model_config(), sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def kept_day() -> dt.date | None:
    """The day the kept scores are as of, if they are current for today's configuration."""
    state = dict(IntelState.objects.filter(key__in=(DAY, CONFIG)).values_list("key", "value"))
    if not state.get(DAY) or state.get(CONFIG) != config_key():
        return None
    return dt.date.fromisoformat(state[DAY])


def is_current() -> bool:
    """Whether the kept scores are today's (two-row read)."""
    return kept_day() == clock.today()


def kept_for(viewer: Viewer, type_key: str) -> bool:
    """Whether the kept scores of ``type_key`` are current and exactly ``viewer``'s."""
    if type_key not in ("person", "organization") or not is_current():
        return False
    if viewer.sees_everything:
        return True
    if type_key == "person":
        return not hidden_ids(viewer, team_ids(clock.today()))
    return not hides_any(viewer)


def kept_scores(type_key: str, ids: list[str] | None = None) -> dict[str, float]:
    """Kept health of the records of ``type_key`` (or of just ``ids``, by primary key)."""
    if ids is None:
        return dict(KeptScore.objects.filter(type_key=type_key).values_list("record_id", "score"))
    found = KeptScore.objects.filter(record_id__in=ids)
    typed = found.values_list("record_id", "score", "type_key")
    return {rid: score for rid, score, kind in typed if kind == type_key}


def order_by_health(qs: QuerySet[Record], *, desc: bool) -> QuerySet[Record]:
    """``qs`` ordered by kept health (none counts as 0), then name key and id."""
    kept = KeptScore.objects.filter(record_id=OuterRef("pk")).values("score")[:1]
    health = Coalesce(Subquery(kept), Value(0.0), output_field=FloatField())
    order = ["kept_health", "name_key", "id"]
    return qs.annotate(kept_health=health).order_by(*(f"-{o}" if desc else o for o in order))


def in_band(qs: QuerySet[Record], type_key: str, band: str) -> QuerySet[Record]:
    """``qs`` narrowed to a kept health band (records without a score are cold): each
    record probes its kept row, so a page in name order stops after its rows."""
    rows = KeptScore.objects.filter(record_id=OuterRef("pk"), type_key=type_key)
    if band == "cold":
        return qs.exclude(Exists(rows.exclude(band="cold")))
    return qs.filter(Exists(rows.filter(band=band)))


REC = Record._meta.db_table
KEPT = KeptScore._meta.db_table


def _where(qs: QuerySet[Record]) -> tuple[str, list[Any]]:
    """``qs``'s condition on the records table, for a query driven by the kept index: its
    own WHERE when it reads that table alone, else ``id IN (its ids)``."""
    query = qs.query
    joined = [a for a in list(query.alias_map)[1:] if query.alias_refcount.get(a)]
    if not joined and not query.annotations and query.base_table == REC:
        try:
            where, params = query.get_compiler(connection=connection).compile(query.where)
            return f"({where})", list(params)
        except FullResultSet:
            return "1 = 1", []
        except EmptyResultSet:
            return "1 = 0", []
    inner, inner_params = qs.values("id").query.sql_with_params()
    return f"{REC}.id IN ({inner})", list(inner_params)


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def count_in_band(qs: QuerySet[Record], type_key: str, band: str, *, plain: bool) -> int:
    """How many records of ``qs`` are in a kept band other than cold: read from the band
    index, each row checked against ``qs``; ``plain``: ``qs`` is every live record of the
    type (no filter, nothing hidden), counted from the index alone."""
    if plain:
        return KeptScore.objects.filter(type_key=type_key, band=band, live=1).count()
    where, params = _where(qs)
    sql = (
        f"SELECT COUNT(*) FROM {KEPT} k JOIN {REC} ON {REC}.id = k.record_id "
        f"WHERE k.type_key = %s AND k.band = %s AND {where}"
    )
    return int(_fetch(sql, [type_key, band, *params])[0][0])


def health_page(
    qs: QuerySet[Record], type_key: str, *, band: str, desc: bool, offset: int, size: int
) -> list[str]:
    """Ids of one page of ``qs`` by kept health (then name key, id), read from the score
    index: the scored records walked in order, then (or first, ascending) those without
    a score, by name. ``band``: only that band (not cold)."""
    where, params = _where(qs)
    d = "DESC" if desc else "ASC"
    scored = (
        f"FROM {KEPT} k JOIN {REC} ON {REC}.id = k.record_id "
        f"WHERE k.type_key = %s AND {where} AND " + ("k.band = %s" if band else "k.score > %s")
    )
    scored_params = [type_key, *params, band or 0.0]

    def scored_slice(start: int, n: int) -> list[str]:
        sql = (
            f"SELECT k.record_id {scored} ORDER BY k.score {d}, {REC}.name_key {d}, {REC}.id {d} "
            "LIMIT %s OFFSET %s"
        )
        return [r[0] for r in _fetch(sql, [*scored_params, n, start])]

    if band:
        return scored_slice(offset, size)
    unscored = qs.exclude(
        pk__in=KeptScore.objects.filter(type_key=type_key, score__gt=0).values("record_id")
    ).order_by(*(f"-{o}" if desc else o for o in ("name_key", "id")))

    def unscored_slice(start: int, n: int) -> list[str]:
        return list(unscored.values_list("id", flat=True)[start : start + n])

    if desc:
        ids = scored_slice(offset, size)
        if len(ids) == size:
            return ids
        n_scored = (
            offset + len(ids)
            if ids
            else int(_fetch(f"SELECT COUNT(*) {scored}", scored_params)[0][0])
        )
        return ids + unscored_slice(max(offset - n_scored, 0), size - len(ids))
    n_scored = int(_fetch(f"SELECT COUNT(*) {scored}", scored_params)[0][0])
    n_unscored = qs.count() - n_scored
    ids = unscored_slice(offset, size) if offset < n_unscored else []
    return ids + scored_slice(max(offset - n_unscored, 0), size - len(ids))


def at_risk_candidates(type_key: str, *, offset: int, size: int) -> list[tuple[str, float]]:
    """(id, score ``trend_days`` earlier) of records of ``type_key`` whose kept health fell
    by ``falling_points``, dropped below ``at_risk_health`` or hit a risk event, in the
    at-risk order (newest event or contact first, then the largest drop, the value, the id),
    deleted ones included (the caller leaves them out): one page, read with the index."""
    found = (
        KeptScore.objects.filter(type_key=type_key, at_risk=1)
        .order_by("-newest_event", "change", "-value", "-record_id")
        .values_list("record_id", "previous")
    )
    return list(found[offset : offset + size])
