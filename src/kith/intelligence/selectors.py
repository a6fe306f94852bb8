"""Reads: strength of a tie, health of a person or organisation, trends, best and at-risk."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import connection

from kith.core import clock
from kith.core.errors import ValidationError
from kith.core.viewer import Viewer
from kith.intelligence import aggregates as agg
from kith.intelligence import notes
from kith.intelligence.conf import model_config
from kith.intelligence.engine import Snapshot, compute
from kith.intelligence.scoring import PairAgg, Score, pair_strength, trend_reason
from kith.intelligence.services import history_version
from kith.intelligence.ties import ties_view
from kith.intelligence.value import override as override_value
from kith.records.models import Record
from kith.records.selectors import effective_viewer, home_org, resolve
from kith.relationships.selectors import team_ids

PERIODS = {"week": 7, "month": None}


def _day(as_of: dt.date | None) -> dt.date:
    return as_of or clock.today()


def _ref_view(record: Record) -> dict[str, str]:
    return {"id": record.id, "name": record.name, "type": record.type_id}


def strength(viewer: Viewer, a: str, b: str, *, as_of: dt.date | None = None) -> dict[str, Any]:
    """Strength of the tie between one of our people and another person, with reasons."""
    day = _day(as_of)
    ra, rb = resolve(viewer, a, field="a"), resolve(viewer, b, field="b")
    for rec, fld in ((ra, "a"), (rb, "b")):
        if rec.type_id != "person":
            raise ValidationError(f"{fld}: {rec.name!r} is not a person", field=fld)
    team = team_ids(day)
    if ra.id in team and rb.id in team:
        raise ValidationError(
            f"b: {ra.name} and {rb.name} are both on our team; strength measures outside ties",
            field="b",
        )
    if ra.id not in team and rb.id not in team:
        raise ValidationError(
            f"a: neither {ra.name} nor {rb.name} is on our team on {day.isoformat()}", field="a"
        )
    member, other = (ra, rb) if ra.id in team else (rb, ra)
    cfg = model_config()
    rows = agg.pair_rows(cfg, day, team, ("person", other.id), member=member.id, viewer=viewer)
    score = pair_strength(cfg, agg.to_agg(rows[0]) if rows else PairAgg(), day)
    return {
        "as_of": day.isoformat(),
        "member": _ref_view(member),
        "person": _ref_view(other),
        **score.as_dict(),
    }


def _snapshot_for(viewer: Viewer, record: Record, day: dt.date) -> Score:
    return _scored(viewer, record, day)[1]


def _scored(viewer: Viewer, record: Record, day: dt.date) -> tuple[Snapshot, Score]:
    cfg = model_config()
    if record.type_id == "person":
        snap = compute(cfg, day, ("person", record.id), viewer=viewer)
        return snap, snap.person(record.id, explain_tie=True)
    if record.type_id == "organization":
        _check_not_home(record)
        snap = compute(cfg, day, ("org", record.id), viewer=viewer)
        return snap, snap.orgs[record.id]
    raise ValidationError(
        f"ref: health is measured for people and organisations, not {record.type_id} "
        f"{record.name!r}",
        field="ref",
    )


def _check_not_home(record: Record) -> None:
    home = home_org()
    if home is not None and home.id == record.id:
        raise ValidationError(
            f"ref: {record.name} is our own organisation; health measures outside relationships",
            field="ref",
        )


def _month_ends(day: dt.date, periods: int) -> list[dt.date]:
    out = [day]
    cur = day.replace(day=1) - dt.timedelta(days=1)
    while len(out) < periods:
        out.append(cur)
        cur = cur.replace(day=1) - dt.timedelta(days=1)
    return out[::-1]


def series_days(day: dt.date, every: str, periods: int) -> list[dt.date]:
    """Period ends, oldest first, the last one being ``day``."""
    if every not in PERIODS:
        raise ValidationError(f"--every: {every!r} is not week or month", field="every")
    if not 1 <= periods <= 520:
        raise ValidationError(f"--periods: {periods} is outside 1..520", field="periods")
    if every == "week":
        return [day - dt.timedelta(days=7 * i) for i in range(periods - 1, -1, -1)]
    return _month_ends(day, periods)


def health(
    viewer: Viewer,
    ref: str,
    *,
    as_of: dt.date | None = None,
    trend: bool = False,
    every: str = "month",
    periods: int = 12,
    knowers: bool = False,
) -> dict[str, Any]:
    """Health (0-100, band, factors, reasons) of a person or organisation, with its trend,
    from what ``viewer`` may see (a hidden person is neither counted nor named).

    With ``knowers``, from the same computation: who on our team knows them best
    (``knowers``) and, for an organisation, our people x their people (``grid``)."""
    day = _day(as_of)
    record = resolve(viewer, ref, field="ref")
    viewer = effective_viewer(viewer)
    if record.type_id == "person" and record.id in team_ids(day):
        raise ValidationError(
            f"ref: {record.name} is on our team; health measures outside relationships",
            field="ref",
        )
    cfg = model_config()
    snap, score = _scored(viewer, record, day)
    before_day = day - dt.timedelta(days=cfg["trend_days"])
    before = _snapshot_for(viewer, record, before_day)
    view: dict[str, Any] = {"as_of": day.isoformat(), "record": _ref_view(record)}
    view.update(score.as_dict())
    view["previous"] = {"as_of": before_day.isoformat(), "score": round(before.score, 1)}
    view["change"] = round(score.score - before.score, 1)
    said = trend_reason(score.score, before.score, before_day, cfg)
    if said:
        view["reasons"] = [*view["reasons"], said]
    extra = notes.notes(viewer, record, day)  # registered by higher apps (kith.surveys)
    if extra:
        view["reasons"] = [*view["reasons"], *extra]
    if knowers:
        view.update(ties_view(snap, record))
    if trend:
        view["trend"] = [
            {
                "as_of": d.isoformat(),
                "score": round((s := _snapshot_for(viewer, record, d)).score, 1),
                "band": s.band,
            }
            for d in series_days(day, every, periods)
        ]
    return view


def _ranked(snap: Snapshot, kinds: set[str]) -> list[tuple[str, str, float]]:
    """(id, type, health) of every scored record of the wanted types."""
    items: list[tuple[str, str, float]] = []
    live = snap.names  # live records only: deleted ones are neither best nor at risk
    if "organization" in kinds:
        items += [(rid, "organization", s.score) for rid, s in snap.orgs.items() if rid in live]
    if "person" in kinds:
        items += [(rid, "person", s) for rid, s in snap.person_score.items() if rid in live]
    return items


def _full(snap: Snapshot, rid: str, kind: str) -> Score:
    return snap.orgs[rid] if kind == "organization" else snap.person(rid)


def _kinds(kind: str | None) -> set[str]:
    if kind in (None, "", "all"):
        return {"organization", "person"}
    norm = {"org": "organization", "orgs": "organization", "people": "person"}.get(kind, kind)
    if norm not in {"organization", "person"}:
        raise ValidationError(f"--type: {kind!r} is not person or organization", field="type")
    return {norm}


def _limit(limit: int) -> int:
    if not 1 <= limit <= 10_000:
        raise ValidationError(f"--limit: {limit} is outside 1..10000", field="limit")
    return limit


def best(
    viewer: Viewer, *, as_of: dt.date | None = None, limit: int = 20, kind: str | None = None
) -> list[dict[str, Any]]:
    """Top organisations and people by value (won revenue once deals are won, else
    engagement: ``kith.intelligence.value``) x health,
    among and from the records ``viewer`` may see."""
    day = _day(as_of)
    kinds, limit = _kinds(kind), _limit(limit)
    who = effective_viewer(viewer)
    snap = compute(model_config(), day, viewer=who)
    basis, worth = override_value(who, day) or ("engagement", snap.value)
    items = [
        (worth.get(rid, 0.0) * score / 100, rid, t, score)
        for rid, t, score in _ranked(snap, kinds)
        if score > 0
    ]
    items.sort(key=lambda x: (-x[0], -x[3], x[1]))
    return [
        {
            "id": rid,
            "name": snap.names.get(rid, rid),
            "type": t,
            "value": round(worth.get(rid, 0.0), 1),
            "value_basis": basis,
            "rank_score": round(v, 1),
            **_full(snap, rid, t).as_dict(),
        }
        for v, rid, t, _ in items[:limit]
    ]


def at_risk(
    viewer: Viewer, *, as_of: dt.date | None = None, limit: int = 20, kind: str | None = None
) -> list[dict[str, Any]]:
    """Organisations and people whose health is low or falling, or who hit a risk event,
    among and from the records ``viewer`` may see."""
    cfg = model_config()
    day = _day(as_of)
    kinds, limit = _kinds(kind), _limit(limit)
    before_day = day - dt.timedelta(days=cfg["trend_days"])
    viewer = effective_viewer(viewer)
    now = compute(cfg, day, viewer=viewer)
    then = past_snapshot(cfg, before_day, viewer)
    out: list[dict[str, Any]] = []
    for rid, t, _ in _ranked(now, kinds):
        if t == "organization":
            prev_org = then.orgs.get(rid)
            prev_score = prev_org.score if prev_org else 0.0
        else:
            prev_score = then.person_score.get(rid, 0.0)
        entry = risk_entry(cfg, now, rid, t, prev_score)
        if entry is not None:
            out.append(entry)
    out.sort(key=lambda r: (r["newest_event"], -r["change"], r["value"], r["id"]), reverse=True)
    return out[:limit]


def risk_entry(
    cfg: dict[str, Any], now: Snapshot, rid: str, t: str, prev_score: float
) -> dict[str, Any] | None:
    """``rid``'s at-risk entry (with its reasons) if it is at risk, given its score
    ``trend_days`` earlier; None when its health neither fell nor hit a risk event."""
    before_day = now.as_of - dt.timedelta(days=cfg["trend_days"])
    if t == "organization":
        score = now.orgs[rid].score
        events = list(now.orgs[rid].extra.get("risk_events", []))
    else:
        score = now.person_score.get(rid, 0.0)
        events = []
    drop = prev_score - score
    low = score < cfg["at_risk_health"] <= prev_score
    falling = drop >= cfg["falling_points"]
    if not (falling or events or low):
        return None
    s = _full(now, rid, t)
    why = []
    if falling:
        why.append(trend_reason(score, prev_score, before_day, cfg) or "")
    elif low:
        why.append(f"health is {s.band} ({score:.0f})")
    why += [e["event"] for e in events]
    why += [r for r in s.reasons if r not in why and not r.startswith("average survey")]
    newest = max([e["date"] for e in events] + [_last_contact(s)], default="")
    return {
        "id": rid,
        "name": now.names.get(rid, rid),
        "type": t,
        "score": round(score, 1),
        "band": s.band,
        "previous": round(prev_score, 1),
        "change": round(-drop, 1),
        "value": round(now.value.get(rid, 0.0), 1),
        "newest_event": newest,
        "reasons": why,
        "factors": s.factors,
    }


_PAST: dict[tuple[Any, ...], Snapshot] = {}


def past_snapshot(cfg: dict[str, Any], day: dt.date, viewer: Viewer) -> Snapshot:
    """``compute(cfg, day)`` for a day at or before the start of the trend window, kept in
    this process until a change reaches back that far (the history version moves): logging
    today's calls and emails leaves it valid, so at-risk costs one computation, not two.

    Only the system's snapshot is kept (it is everyone's who is hidden nothing, see
    ``effective_viewer``); one for a viewer with hidden records is computed afresh, since
    making a record private or public does not move the history version."""
    if not viewer.sees_everything:
        return compute(cfg, day, viewer=viewer)
    if day > clock.today() - dt.timedelta(days=int(cfg["trend_days"]) - 1):
        return compute(cfg, day)  # inside the window: today's changes reach it
    key = (
        connection.settings_dict["NAME"],
        day,
        clock.today(),
        history_version(),
        json.dumps(cfg, sort_keys=True, default=str),
    )
    snap = _PAST.get(key)
    if snap is None:
        snap = compute(cfg, day)
        if len(_PAST) >= 8:
            _PAST.clear()
        _PAST[key] = snap
    return snap


def _last_contact(score: Score) -> str:
    return str(score.extra.get("last_two_way", ""))
