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

from django.db.models import F, FloatField, OuterRef, Q, QuerySet, Subquery, Value
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
    """Kept health of the records of ``type_key`` (or of just ``ids``), by id."""
    rows = KeptScore.objects.filter(type_key=type_key)
    if ids is not None:
        rows = rows.filter(record_id__in=ids)
    return dict(rows.values_list("record_id", "score"))


def order_by_health(qs: QuerySet[Record], *, desc: bool) -> QuerySet[Record]:
    """``qs`` ordered by kept health (none counts as 0), then name key and id."""
    kept = KeptScore.objects.filter(record_id=OuterRef("pk")).values("score")[:1]
    health = Coalesce(Subquery(kept), Value(0.0), output_field=FloatField())
    order = ["kept_health", "name_key", "id"]
    return qs.annotate(kept_health=health).order_by(*(f"-{o}" if desc else o for o in order))


def in_band(qs: QuerySet[Record], band: str) -> QuerySet[Record]:
    """``qs`` narrowed to a kept health band (records without a score are cold)."""
    if band == "cold":
        warm = KeptScore.objects.exclude(band="cold").values("record_id")
        return qs.exclude(pk__in=warm)
    return qs.filter(pk__in=KeptScore.objects.filter(band=band).values("record_id"))


def at_risk_candidates(type_key: str) -> list[tuple[str, float]]:
    """(id, score ``trend_days`` earlier) of the live records of ``type_key`` whose kept
    health fell by ``falling_points``, dropped below ``at_risk_health`` or hit a risk event,
    in the at-risk order: newest event (or last contact) first, then the largest drop, the
    value, the id."""
    cfg = model_config()
    low, falling = float(cfg["at_risk_health"]), float(cfg["falling_points"])
    dead = Record.objects.filter(deleted_at__isnull=False).values("id")
    found = (
        KeptScore.objects.filter(
            Q(risk=True)
            | Q(previous__gte=F("score") + falling)
            | Q(score__lt=low, previous__gte=low),
            type_key=type_key,
        )
        .exclude(record_id__in=dead)
        .values_list("record_id", "newest_event", "score", "previous", "value")
    )
    rows = [
        (rid, newest, round(score - prev, 1), round(value, 1), prev)
        for rid, newest, score, prev, value in found
    ]
    rows.sort(key=lambda r: (r[1], -r[2], r[3], r[0]), reverse=True)
    return [(r[0], r[4]) for r in rows]
