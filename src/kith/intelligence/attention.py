"""Scores the pages read often: health of a list's records, the per-process score cache.

``memo`` keeps a whole-workspace computation (every record's health, the at-risk ranking)
in this process while the data it reads cannot have changed; the key is checked with
two queries, where scoring the workspace costs ~200 ms on the demo data.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Count, Max

from kith.core import clock
from kith.intelligence.conf import model_config
from kith.intelligence.engine import compute
from kith.intelligence.services import data_version, ensure_pairstats
from kith.records.models import Record

T = TypeVar("T")
SCORED_TYPES = ("person", "organization")
_memo_cache: dict[tuple[Any, ...], Any] = {}
_memo_lock = threading.Lock()


def today() -> dt.date:
    """The day scores are computed for (the UTC day)."""
    return clock.today()


def memo(name: str, make: Callable[[], T]) -> T:
    """``make()``, kept in this process while the scores it reads cannot have changed.

    The key holds the database, the day, the intelligence data version (bumped by every
    logged interaction, relationship change and bulk load) and the records' count and
    newest update and deletion (renames, merges, deletes), so a stale answer is never
    served.
    """
    ensure_pairstats()  # a first build bumps the version: key on the version after it
    rec = Record.objects.aggregate(n=Count("id"), u=Max("updated_at"), d=Max("deleted_at"))
    key = (name, connection.settings_dict["NAME"], today(), data_version(), *rec.values())
    with _memo_lock:
        if key in _memo_cache:
            return _memo_cache[key]
    value = make()
    with _memo_lock:
        if len(_memo_cache) >= 16:
            _memo_cache.clear()
        _memo_cache[key] = value
    return value


def health_scores(type_key: str) -> dict[str, float]:
    """Health of every scored record of the type as of today (one cached computation)."""

    def scores() -> dict[str, dict[str, float]]:
        snap = compute(model_config(), today())
        return {
            "person": dict(snap.person_score),
            "organization": {rid: s.score for rid, s in snap.orgs.items()},
        }

    return memo("health", scores).get(type_key, {})


def page_scores(type_key: str, ids: list[str]) -> dict[str, float]:
    """Health of just these records (a page of a list): the cost grows with the page, not
    with the workspace; the same numbers as :func:`health_scores`."""
    if not ids or type_key not in SCORED_TYPES:
        return {}
    if type_key == "person":
        return dict(compute(model_config(), today(), ("people", tuple(ids))).person_score)
    snap = compute(model_config(), today(), ("orgs", tuple(ids)))
    return {rid: s.score for rid, s in snap.orgs.items()}
