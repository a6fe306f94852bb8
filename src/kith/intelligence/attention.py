"""Scores the pages read often: what needs my attention, health of a list's records, the
at-risk ranking, and the per-process score cache.

``memo`` keeps a whole-workspace computation (every record's health, the at-risk ranking)
in this process while the data it reads cannot have changed; the key is checked with
two queries, where scoring the workspace costs ~200 ms on the demo data.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.db import connection
from django.db.models import Count, Max

from kith.core import clock
from kith.core.viewer import Viewer
from kith.intelligence import aggregates as agg
from kith.intelligence.conf import model_config
from kith.intelligence.engine import compute
from kith.intelligence.kept_selectors import (
    at_risk_candidates,
    is_current,
    kept_for,
    kept_scores,
)
from kith.intelligence.scoring import pair_strength
from kith.intelligence.selectors import at_risk, risk_entry
from kith.intelligence.services import data_version
from kith.records.models import Record
from kith.records.selectors import effective_viewer, hidden_ids, hidden_records, visible_q
from kith.relationships.models import Relationship
from kith.relationships.selectors import employers, team_ids

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
    rec = Record.objects.aggregate(n=Count("id"), u=Max("updated_at"), d=Max("deleted_at"))
    key = (name, connection.settings_dict["NAME"], today(), data_version(), *rec.values())
    with _memo_lock:
        if key in _memo_cache:
            return cast(T, _memo_cache[key])
    value = make()
    with _memo_lock:
        if len(_memo_cache) >= 16:
            _memo_cache.clear()
        _memo_cache[key] = value
    return value


def health_scores(viewer: Viewer, type_key: str) -> dict[str, float]:
    """Health of every record of the type the viewer may see, as of today, from what they
    may see. Everyone who is hidden nothing shares one cached computation (the system's);
    a viewer with hidden records gets their own, so hidden people neither score nor count.
    """
    if kept_for(viewer, type_key):
        return kept_scores(type_key)
    if type_key == "organization" and (patched := kept_orgs_for(viewer)) is not None:
        return patched
    viewer = effective_viewer(viewer)

    def scores() -> dict[str, dict[str, float]]:
        snap = compute(model_config(), today(), viewer=viewer)
        return {
            "person": dict(snap.person_score),
            "organization": {rid: s.score for rid, s in snap.orgs.items()},
        }

    found = memo("health", scores) if viewer.sees_everything else scores()
    return found.get(type_key, {})


def page_scores(viewer: Viewer, type_key: str, ids: list[str]) -> dict[str, float]:
    """Health of just these records (a page of a list) from what the viewer may see: the
    cost grows with the page, not with the workspace; the same numbers as
    :func:`health_scores`."""
    if not ids or type_key not in SCORED_TYPES:
        return {}
    if kept_for(viewer, type_key):
        return kept_scores(type_key, ids)
    if type_key == "organization" and (patched := kept_orgs_for(viewer, ids)) is not None:
        return patched
    viewer = effective_viewer(viewer)
    if type_key == "person":
        snap = compute(model_config(), today(), ("people", tuple(ids)), viewer=viewer)
        return dict(snap.person_score)
    snap = compute(model_config(), today(), ("orgs", tuple(ids)), viewer=viewer)
    return {rid: s.score for rid, s in snap.orgs.items()}


PATCHED_AT_MOST = 500  # organisations a viewer's hidden people work at, scored for them


def kept_orgs_for(viewer: Viewer, ids: list[str] | None = None) -> dict[str, float] | None:
    """Organisations' health for a viewer from whom private people are hidden (none of our
    team): the kept scores, except those of the organisations a hidden person works or
    worked at, which are computed from what the viewer sees (the only ones a hidden person
    can move). None when the kept scores cannot serve (not current, a hidden member of our
    team moves every score, too many organisations touched)."""
    if viewer.sees_everything or not is_current():
        return None
    if hidden_ids(viewer, team_ids(today())):
        return None
    hidden = hidden_records(viewer).values("id")
    rollup = Relationship.objects.filter(from_record_id__in=hidden, type__rollup=True)
    touched = set(rollup.values_list("to_record_id", flat=True)[: PATCHED_AT_MOST + 1])
    if len(touched) > PATCHED_AT_MOST:
        return None
    scores = kept_scores("organization", ids)
    mine = sorted(o for o in touched if o in scores)  # live organisations of this page
    if mine:
        snap = compute(model_config(), today(), ("orgs", tuple(mine)), viewer=viewer)
        scores.update({o: snap.orgs[o].score for o in mine})
    return scores


def my_attention(viewer: Viewer, person_id: str, *, limit: int = 10) -> list[dict[str, Any]]:
    """The outside people whose tie with ``person_id`` is overdue or fading, with reasons.

    Overdue: no two-way contact within the usual cadence. Ordered by what the tie was
    worth before it faded (frequency, depth, reciprocity, tenure), so the ties most worth
    saving come first. Only people the viewer may see are named.
    """
    cfg, day = model_config(), today()
    team = team_ids(day)
    found = []
    for row in agg.pair_rows(cfg, day, team, ("all", None), member=person_id):
        pair = agg.to_agg(row)
        if not pair.n_two:
            continue
        score = pair_strength(cfg, pair, day)
        gap, cadence = score.extra["days_since_two_way"], score.extra["cadence_days"]
        if gap <= cadence and score.band not in ("weak", "cold"):
            continue
        base = sum(f["contribution"] for f in score.factors if f["name"] != "recency")
        found.append((base, row[1], score))
    found.sort(key=lambda t: (-t[0], t[1]))
    ids = [pid for _, pid, _ in found[: limit * 3]]
    live = {
        r.id: r
        for r in Record.objects.filter(visible_q(viewer), pk__in=ids, deleted_at__isnull=True)
    }
    jobs = employers(viewer, list(live), day=day)
    out: list[dict[str, Any]] = []
    for _, pid, score in found:
        if pid not in live or len(out) >= limit:
            continue
        out.append(
            {
                "id": pid,
                "name": live[pid].name,
                "orgs": jobs.get(pid, []),
                "score": round(score.score),
                "band": score.band,
                "last": score.extra["last_two_way"],
                "reasons": score.reasons,
            }
        )
    return out


def at_risk_by_type(viewer: Viewer, limit: int) -> dict[str, list[dict[str, Any]]]:
    """At-risk organisations and people built from what the viewer may see; at most
    ``limit`` of each, four reasons each. Everyone who is hidden nothing shares one
    cached ranking (the system's), read from the kept scores when they are current."""
    if kept_for(viewer, "organization"):  # nothing is hidden from the viewer
        return kept_at_risk(limit)
    viewer = effective_viewer(viewer)
    if viewer.sees_everything:
        rows = memo("at_risk", lambda: at_risk(viewer, limit=10_000))
    else:
        rows = at_risk(viewer, limit=10_000)
    out: dict[str, list[dict[str, Any]]] = {"organization": [], "person": []}
    for r in rows:
        bucket = out.setdefault(r["type"], [])
        if len(bucket) < limit:
            bucket.append({**r, "reasons": [w for w in r["reasons"] if w][:4]})
    return out


def kept_at_risk(limit: int) -> dict[str, list[dict[str, Any]]]:
    """The at-risk organisations and people of the kept scores (the system's view), at most
    ``limit`` of each: the ranking is read with the index, and only the records shown are
    scored again for their reasons (the same entries ``at_risk`` gives)."""
    cfg, day = model_config(), today()
    out: dict[str, list[dict[str, Any]]] = {}
    for type_key, scope in (("organization", "orgs"), ("person", "people")):
        found: list[dict[str, Any]] = []
        offset, size = 0, limit * 2
        while len(found) < limit:
            page = dict(at_risk_candidates(type_key, offset=offset, size=size))
            offset += size
            if not page:
                break
            live = set(
                Record.objects.filter(pk__in=list(page), deleted_at__isnull=True).values_list(
                    "id", flat=True
                )
            )
            ids = [rid for rid in page if rid in live]
            snap = compute(cfg, day, (scope, tuple(ids))) if ids else None
            for rid in ids:
                entry = risk_entry(cfg, snap, rid, type_key, page[rid]) if snap else None
                if entry is not None and len(found) < limit:
                    found.append({**entry, "reasons": [w for w in entry["reasons"] if w][:4]})
        out[type_key] = found
    return out
