"""Reads: one person's coaching, compared only with their own past; it ranks nobody.

For one of our people: their portfolio (the health bands of the people they have ties with,
now and 90 days ago), ties that strengthened, the three relationships slipping most with
reasons, single-threaded accounts (they are the only warm tie), and habits against their
own 12-week baseline (reply time to inbound, one-way outreach share, multi-threading, next
steps agreed after meetings), with "try" suggestions linked to evidence. No function here
takes more than one person of ours, and none orders our people by anything.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

from kith.briefs.models import CoachSetting
from kith.core.models import AuditEvent
from kith.core.viewer import Viewer
from kith.intelligence import aggregates as agg
from kith.intelligence.conf import band, model_config
from kith.intelligence.scoring import pair_strength
from kith.interactions.models import Interaction, Participant
from kith.records.models import Record
from kith.records.selectors import effective_viewer, hidden_ids
from kith.relationships.selectors import team_ids
from kith.tasks.models import Task, TaskLink

TREND_DAYS = 90
RECENT_DAYS = 28
BASELINE_DAYS = 84  # the 12 weeks before the recent four
REPLY_WITHIN = dt.timedelta(days=14)
ANSWERED_WITHIN = dt.timedelta(days=7)
NEXT_STEP_WITHIN = dt.timedelta(days=2)
MODES = ("on", "self", "off")


def mode() -> str:
    """The workspace's coaching setting: on, self (only the person sees theirs), or off."""
    found = CoachSetting.objects.filter(pk=1).first()
    return found.mode if found else "on"


def leads_of(name: str) -> list[str]:
    """The lead emails of the team called ``name``."""
    found = CoachSetting.objects.filter(pk=1).first()
    return list((found.leads or {}).get(name, [])) if found else []


def views_of(subject_email: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Who else looked at this person's coaching, and when (shown to the person)."""
    rows = AuditEvent.objects.filter(action="coach.viewed", target=subject_email).order_by(
        "-at", "-id"
    )[:limit]
    return [{"by": (r.detail or {}).get("by") or r.actor, "at": r.at.isoformat()} for r in rows]


def _strengths(cfg: dict[str, Any], member: str, day: dt.date, viewer: Viewer) -> dict[str, Any]:
    team = team_ids(day)
    rows = agg.pair_rows(cfg, day, team, ("all", None), member=member, viewer=viewer)
    return {r[1]: pair_strength(cfg, agg.to_agg(r), day) for r in rows}


def _interactions(
    viewer: Viewer, member: str, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """The member's interactions with people ``viewer`` may see (one with hidden people
    only is left out, so neither it nor they are counted or cited)."""
    ids = Participant.objects.filter(record_id=member, at__gte=start, at__lt=end).values(
        "interaction_id"
    )
    rows: dict[str, dict[str, Any]] = {
        i: {"id": i, "kind": k, "at": at, "dir": d, "thread": t, "people": set()}
        for i, k, at, d, t in Interaction.objects.filter(
            pk__in=ids, deleted_at__isnull=True
        ).values_list("id", "kind", "at", "direction", "thread_id")
    }
    for iid, rid in Participant.objects.filter(interaction_id__in=ids).values_list(
        "interaction_id", "record_id"
    ):
        if iid in rows and rid != member:
            rows[iid]["people"].add(rid)
    unseen = hidden_ids(viewer, {p for r in rows.values() for p in r["people"]})
    kept = []
    for r in rows.values():
        r["people"] -= unseen
        if r["people"]:
            kept.append(r)
    return sorted(kept, key=lambda r: (r["at"], r["id"]))


def _habits(rows: list[dict[str, Any]], member: str, start: dt.datetime) -> dict[str, Any]:
    """Habits over ``rows`` that start at or after ``start``; the later rows answer them."""
    mine = [r for r in rows if r["at"] >= start]
    replies: list[float] = []
    slow: list[str] = []
    for r in mine:
        if r["kind"] != "email" or r["dir"] != "in":
            continue
        answer = next(
            (
                o
                for o in rows
                if o["dir"] == "out"
                and r["at"] < o["at"] <= r["at"] + REPLY_WITHIN
                and ((r["thread"] and o["thread"] == r["thread"]) or (o["people"] & r["people"]))
            ),
            None,
        )
        if answer is not None:
            replies.append((answer["at"] - r["at"]).total_seconds() / 3600)
        else:
            slow.append(r["id"])
    outbound = [r for r in mine if r["dir"] == "out"]
    one_way = [
        o["id"]
        for o in outbound
        if not any(
            i["dir"] == "in"
            and o["at"] < i["at"] <= o["at"] + ANSWERED_WITHIN
            and (i["people"] & o["people"])
            for i in rows
        )
    ]
    return {
        "reply_hours": round(statistics.median(replies), 1) if replies else None,
        "unanswered": slow,
        "outbound": len(outbound),
        "one_way_share": round(len(one_way) / len(outbound), 2) if outbound else None,
        "one_way": one_way,
    }


def _multi(rows: list[dict[str, Any]], start: dt.datetime, day: dt.date) -> float | None:
    people = {p for r in rows if r["at"] >= start for p in r["people"]}
    if not people:
        return None
    by_org: dict[str, set[str]] = defaultdict(set)
    for p, o, _ in agg.employment(day):
        if p in people:
            by_org[o].add(p)
    return round(statistics.mean(len(v) for v in by_org.values()), 2) if by_org else None


def _next_steps(member: str, meetings: list[dict[str, Any]]) -> tuple[float | None, list[str]]:
    if not meetings:
        return None, []
    missing = []
    for m in meetings:
        about = TaskLink.objects.filter(record_id__in=sorted(m["people"])).values("task_id")
        made = (
            Task.objects.filter(
                pk__in=about, created_at__gte=m["at"], created_at__lte=m["at"] + NEXT_STEP_WITHIN
            ).exists()
            or Task.objects.filter(evidence=m["id"]).exists()
        )
        if not made:
            missing.append(m["id"])
    return round(1 - len(missing) / len(meetings), 2), missing


def coaching(viewer: Viewer, member: Record, *, as_of: dt.date) -> dict[str, Any]:
    """The coaching of one of our people as of a day (``member`` already checked)."""
    viewer = effective_viewer(viewer)
    cfg = model_config()
    before = as_of - dt.timedelta(days=TREND_DAYS)
    now_s = _strengths(cfg, member.id, as_of, viewer)
    then_s = _strengths(cfg, member.id, before, viewer)
    names = agg.names(set(now_s) | set(then_s), viewer=viewer)
    now_s = {p: s for p, s in now_s.items() if p in names}
    then_s = {p: s for p, s in then_s.items() if p in names}

    def bands(scores: dict[str, Any]) -> dict[str, int]:
        out = {b: 0 for _, b in cfg["bands"]}
        for s in scores.values():
            out[band(cfg, s.score)] += 1
        return out

    moves = sorted(
        ((now_s[p].score - (then_s[p].score if p in then_s else 0.0), p) for p in now_s),
        key=lambda t: (t[0], names[t[1]], t[1]),
    )
    slipping: list[dict[str, Any]] = [
        {
            "person": {"id": p, "name": names[p]},
            "strength": round(now_s[p].score, 1),
            "change": round(d, 1),
            "reasons": now_s[p].reasons,
            "evidence": [p],
        }
        for d, p in moves[:3]
        if d < 0
    ]
    stronger = [
        {"person": {"id": p, "name": names[p]}, "change": round(d, 1), "evidence": [p]}
        for d, p in reversed(moves[-5:])
        if d >= 10
    ]
    floor = cfg["engaged_strength"]
    team = set(team_ids(as_of))
    warm = {p for p, s in now_s.items() if s.score >= floor}
    single: list[dict[str, Any]] = []
    if warm:
        orgs: dict[str, set[str]] = defaultdict(set)
        for p, o, _ in agg.employment(as_of, viewer=viewer):
            if p in warm:
                orgs[o].add(p)
        others = (
            agg.pair_rows(cfg, as_of, sorted(team), ("orgs", tuple(sorted(orgs))), viewer=viewer)
            if orgs
            else []
        )
        warm_by_others = {r[1] for r in others if r[0] != member.id}
        org_names = agg.names(set(orgs), viewer=viewer)
        for o in sorted(orgs, key=lambda o: (org_names.get(o, o), o)):
            if o in org_names and not (orgs[o] & warm_by_others):
                single.append(
                    {"org": {"id": o, "name": org_names[o]}, "evidence": [o, *sorted(orgs[o])]}
                )
    end = dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.UTC) + dt.timedelta(days=1)
    recent_start = end - dt.timedelta(days=RECENT_DAYS)
    base_start = recent_start - dt.timedelta(days=BASELINE_DAYS)
    rows = _interactions(viewer, member.id, base_start, end)
    base_rows = [r for r in rows if r["at"] < recent_start]
    recent = _habits(rows, member.id, recent_start)
    base = _habits(base_rows, member.id, base_start)
    steps_now, missing = _next_steps(
        member.id, [r for r in rows if r["kind"] == "meeting" and r["at"] >= recent_start]
    )
    steps_base, _ = _next_steps(member.id, [r for r in base_rows if r["kind"] == "meeting"])
    habits = [
        _habit(
            "reply time to inbound (median hours)",
            recent["reply_hours"],
            base["reply_hours"],
            recent["unanswered"],
        ),
        _habit(
            "one-way outreach share",
            recent["one_way_share"],
            base["one_way_share"],
            recent["one_way"],
        ),
        _habit(
            "people per account you talk with",
            _multi(rows, recent_start, as_of),
            _multi(base_rows, base_start, as_of),
            [],
        ),
        _habit("meetings followed by an agreed next step", steps_now, steps_base, missing),
    ]
    tries = []
    for s in slipping[:3]:
        tries.append(
            _try(
                f"Reconnect with {s['person']['name']}", s["evidence"], "; ".join(s["reasons"][:2])
            )
        )
    for s in single[:3]:
        tries.append(
            _try(
                f"Introduce a colleague at {s['org']['name']}",
                s["evidence"],
                "you are the only warm tie there",
            )
        )
    if recent["unanswered"]:
        tries.append(
            _try(
                "Answer the inbound still waiting",
                recent["unanswered"][:10],
                f"{len(recent['unanswered'])} without a reply in 14 days",
            )
        )
    if missing:
        tries.append(
            _try(
                "Agree a next step at the end of each meeting",
                missing[:10],
                "meetings with no task after them",
            )
        )
    return {
        "person": {"id": member.id, "name": member.name},
        "as_of": as_of.isoformat(),
        "compared_with": "your own past only; nobody is ranked",
        "portfolio": {
            "ties": len(now_s),
            "bands_now": bands(now_s),
            "bands_90_days_ago": bands(then_s),
            "strengthened": stronger,
        },
        "slipping": slipping,
        "single_threaded": single,
        "habits": habits,
        "try": tries,
    }


def _habit(name: str, now: float | None, base: float | None, evidence: list[str]) -> dict[str, Any]:
    if now is None or base is None:
        said = "not enough to compare yet"
    elif now == base:
        said = "the same as your last 12 weeks"
    else:
        said = f"{now:g} in the last 4 weeks against {base:g} in the 12 weeks before"
    return {"habit": name, "recent": now, "baseline": base, "said": said, "evidence": evidence[:20]}


def _try(text: str, evidence: list[str], why: str) -> dict[str, Any]:
    return {"label": "suggestion", "text": f"Try: {text}", "why": why, "evidence": evidence}
