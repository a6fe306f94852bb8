"""Reads: what changed since a day, and the brief of an account or a meeting.

Deterministic: a pure function of the data, the viewer, the record and the as-of day (the
same inputs give the same brief, byte for byte). Every line carries the ids of its
evidence; suggestions are apart from the facts and labelled as suggestions. Only what the
viewer may see is read, counted or named.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

from kith.briefs import changes as ch
from kith.briefs.changes import Window
from kith.core import clock
from kith.core.errors import NotFound, ValidationError
from kith.core.parse import parse_date
from kith.core.viewer import Viewer
from kith.intelligence import aggregates as agg
from kith.interactions.models import Interaction
from kith.interactions.selectors import visible_interactions
from kith.plans.models import Review
from kith.plans.selectors import plan_stakeholders, plan_view, plans_of
from kith.records.models import Record
from kith.records.selectors import effective_viewer, resolve
from kith.tasks.models import Status

SINCE_RE = re.compile(r"^(\d{1,4})([dw])$")
DEFAULT_SINCE = "7d"
OPEN_DAYS = 30  # unanswered inbound older than this is history, not an open item
WHO_LIMIT = 8
PER_KIND = 10  # health or strength moves shown in a brief (all are in its "changes")
SUGGESTIONS_CAP = 12
KINDS = ("organization", "person")


def parse_as_of(value: str | dt.date | None) -> dt.date:
    """The as-of day (default today, UTC)."""
    return parse_date(value, field="as_of") or clock.today()


def _last_review(viewer: Viewer, record: Record, as_of: dt.date) -> dt.date:
    plans = plans_of(viewer, record)
    found = (
        Review.objects.filter(plan_id__in=plans, on__lte=as_of).order_by("-on").first()
        if plans
        else None
    )
    if found is None:
        raise ValidationError(
            f"since: {record.name} has no plan review on or before {as_of.isoformat()} "
            "(last-review)",
            field="since",
        )
    return found.on


def parse_since(
    value: str | dt.date | dt.datetime | None,
    *,
    as_of: dt.date,
    viewer: Viewer | None = None,
    record: Record | None = None,
) -> dt.datetime:
    """The window's start: ``7d``/``2w`` before the as-of day's end, a day, a time, or
    ``last-review`` (the record's last plan review)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    if value is None or value == "":
        value = DEFAULT_SINCE
    if isinstance(value, dt.date):
        day = value
    else:
        text = value.strip().lower()
        m = SINCE_RE.match(text)
        if m:
            n = int(m.group(1)) * (7 if m.group(2) == "w" else 1)
            if n < 1:
                raise ValidationError(f"since: {value!r} must be at least 1d", field="since")
            day = as_of - dt.timedelta(days=n - 1)
        elif text == "last-review":
            if viewer is None or record is None:
                raise ValidationError("since: last-review needs a record", field="since")
            day = _last_review(viewer, record, as_of)
        elif "t" in text:
            try:
                moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise ValidationError(
                    f"since: {value!r} is not 7d, 2w, a date, a time or last-review",
                    field="since",
                ) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            return moment.astimezone(dt.UTC)
        else:
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                raise ValidationError(
                    f"since: {value!r} is not 7d, 2w, a date, a time or last-review",
                    field="since",
                ) from None
    if day > as_of:
        raise ValidationError(
            f"since: {day.isoformat()} is after the as-of day {as_of.isoformat()}", field="since"
        )
    return ch._day(day)


def _scope(viewer: Viewer, ref: str | Record, *, field: str = "ref") -> Record:
    record = ref if isinstance(ref, Record) else resolve(viewer, ref, field=field)
    if record.type_id not in KINDS:
        raise ValidationError(
            f"{field}: briefs are for organisations and people, not {record.type_id} "
            f"{record.name!r}",
            field=field,
        )
    return record


def window_for(
    viewer: Viewer,
    ref: str | Record,
    since: str | dt.date | dt.datetime | None,
    as_of: str | dt.date | None,
) -> Window:
    day = parse_as_of(as_of)
    record = _scope(viewer, ref)
    viewer = effective_viewer(viewer)
    start = parse_since(since, as_of=day, viewer=viewer, record=record)
    end = ch._day(day + dt.timedelta(days=1))
    if start >= end:
        raise ValidationError(f"since: {start.isoformat()} is not before the as-of day's end")
    return ch.open_window(viewer, record, start, end)


def _header(w: Window) -> dict[str, Any]:
    return {
        "record": {"id": w.record.id, "name": w.record.name, "type": w.record.type_id},
        "as_of": w.as_of.isoformat(),
        "since": ch._iso(w.start),
        "until": ch._iso(w.end),
    }


def changes_since(
    viewer: Viewer,
    scope: str | Record,
    since: str | dt.date | dt.datetime | None = None,
    as_of: str | dt.date | None = None,
    *,
    kinds: list[str] | None = None,
) -> dict[str, Any]:
    """What changed about an organisation or person in ``[since, end of as_of)``: typed
    items (field changes, relationships started and ended, interactions by kind and by our
    people, unanswered inbound, health and strength moves, tasks done and overdue, plan
    measures that changed status, deals opened, moved, won and lost), each with the ids of its
    evidence."""
    wanted = None
    if kinds:
        unknown = sorted(set(kinds) - set(ch.SOURCES))
        if unknown:
            raise ValidationError(
                f"kind: {unknown[0]!r} is not one of {', '.join(ch.SOURCES)}", field="kind"
            )
        wanted = set(kinds)
    w = window_for(viewer, scope, since, as_of)
    return {**_header(w), "items": ch.collect(w, wanted)}


# -- the brief ---------------------------------------------------------------------------


def _line(text: str, evidence: list[str] | None = None) -> dict[str, Any]:
    return {"text": text, "evidence": list(dict.fromkeys(evidence or []))[: ch.EVIDENCE_CAP]}


def _section(key: str, title: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {"key": key, "title": title, "lines": lines}


def _who(w: Window, plan_ids: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Who's who (plan stakeholders, else the strongest ties), and the plan's gaps."""
    then, now = ch.snapshots(w)
    lines: list[dict[str, Any]] = []
    if plan_ids:
        st = plan_stakeholders(w.viewer, plan_ids[0], as_of=w.as_of)
        for s in st["stakeholders"]:
            pid = s["person"]["id"]
            owner = f"; our owner {s['owner']['name']}" if s["owner"] else ""
            last = f"; last two-way {s['last_two_way']}" if s["last_two_way"] else ""
            moved = now.person_score.get(pid, 0.0) - then.person_score.get(pid, 0.0)
            lines.append(
                _line(
                    f"{s['person']['name']}: {s['role'].replace('_', ' ')}, {s['stance']}{owner}"
                    f"; health {s['health']:.0f} ({s['band']}, {moved:+.0f}){last}",
                    [pid, s["id"], *([s["owner"]["id"]] if s["owner"] else [])],
                )
            )
        return lines, st["gaps"]
    roles = {}
    if w.record.type_id == "organization":
        roles = {p: r for p, _, r in agg.employment(w.as_of, w.record.id, viewer=w.viewer)}
    people = [p for p in w.people if w.record.type_id == "person" or p in roles]
    people.sort(key=lambda p: (-now.person_score.get(p, 0.0), w.people[p].name, p))
    lines = []
    for pid in people[:WHO_LIMIT]:
        ties = now.ties.get(pid, [])
        mine = w.team.get(ties[0][1]) if ties else None
        score = now.person_score.get(pid, 0.0)
        moved = score - then.person_score.get(pid, 0.0)
        role = f", {roles[pid]}" if roles.get(pid) else ""
        said = f"; our owner {mine} (strength {ties[0][0]:.0f})" if mine else "; no tie yet"
        lines.append(
            _line(
                f"{w.people[pid].name}{role}{said}; health {score:.0f}, {moved:+.0f} since "
                f"{w.before_day.isoformat()}",
                [pid, *([ties[0][1]] if ties else [])],
            )
        )
    if len(people) > WHO_LIMIT:
        lines.append(_line(f"and {len(people) - WHO_LIMIT} more people", []))
    return lines, []


def _health(w: Window) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    then, now = ch.snapshots(w)
    rid = w.record.id
    if w.record.type_id == "organization":
        score, before = now.orgs.get(rid), then.orgs.get(rid)
        # the organisation's page shows these reasons with the people behind them: every
        # person of the account on every line (as before) told the reader nothing
        ev = [rid]
    else:
        score, before = now.person(rid, explain_tie=True), then.person(rid)
        ev = [rid, *[m for _, m in now.ties.get(rid, [])]]
    if score is None:
        return [_line("health: not measured (our own organisation)", [rid])], []
    was = before.score if before else 0.0
    lines = [
        _line(
            f"health {score.score:.0f} ({score.band}) on {w.as_of.isoformat()}; "
            f"{was:.0f} on {w.before_day.isoformat()} ({score.score - was:+.0f})",
            [rid, *ev],
        )
    ]
    lines += [_line(r, ev) for r in score.reasons]
    risks = [_line(f"{e['event']} ({e['date']})", ev) for e in score.extra.get("risk_events", [])]
    return lines, risks


def _open_tasks(w: Window) -> list[Any]:
    return list(
        ch._tasks(w)
        .filter(created_at__lt=w.end)
        .exclude(status=Status.CANCELLED)
        .exclude(completed_at__lt=w.end)
        .order_by("due_key", "id")
    )


def _unanswered_open(w: Window) -> list[tuple[str, dt.datetime, str, str]]:
    wide = replace(w, start=w.end - dt.timedelta(days=OPEN_DAYS), memo={})
    return ch.unanswered(w, ch.window_interactions(wide), w.end)


def _plan(
    w: Window, plan_ids: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The plan's progress lines, initiatives at risk (open items), and gaps to act on."""
    lines: list[dict[str, Any]] = []
    at_risk: list[dict[str, Any]] = []
    for pid in plan_ids:
        p = plan_view(w.viewer, pid, as_of=w.as_of)
        lines.append(_line(f"{p['name']} ({p['status']}): {p['summary']}", [pid]))
        tracks = {}
        # by what they say, not by id: ids made in the same instant have no order of their own
        for g in sorted(p["goals"], key=lambda g: (g["text"], g["id"])):
            tracks[g["id"]] = g["track"]
            lines.append(_line(f"goal {g['text']}: {g['track']}", [g["id"]]))
            for m in sorted(
                g["measures"], key=lambda m: (m["label"] or m["metric"] or "", m["id"])
            ):
                lines.append(_line(f"  {m['label'] or m['metric']}: {m['sentence']}", [m["id"]]))
        for i in sorted(p["initiatives"], key=lambda i: (i["title"], i["id"])):
            if i["state"] in ("done", "cancelled"):
                continue
            late = bool(i["due"] and str(i["due"]) < w.as_of.isoformat())
            shaky = tracks.get(i["goal"]) in ("at risk", "off track")
            if late or shaky:
                why = f"due {i['due']}" if late else f"its goal is {tracks.get(i['goal'])}"
                at_risk.append(_line(f"initiative at risk: {i['title']} ({why})", [i["id"]]))
    return lines, at_risk, []


def _concise(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The "what changed" lines: every item, but of the many-per-person kinds (health and
    strength moves) only the largest ``PER_KIND`` and one line counting the rest."""
    lines: list[dict[str, Any]] = []
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for i in items:
        if i["kind"] in ("health_move", "strength_move"):
            by_kind.setdefault(i["kind"], []).append(i)
        else:
            lines.append(_line(i["text"], i["evidence"]))
    for kind in ("health_move", "strength_move"):
        moves = sorted(
            by_kind.get(kind, []),
            key=lambda i: (-abs(i["data"]["after"] - i["data"]["before"]), i["text"]),
        )
        lines += [_line(i["text"], i["evidence"]) for i in moves[:PER_KIND]]
        rest = moves[PER_KIND:]
        if rest:
            word = "health" if kind == "health_move" else "strength"
            ev = [i["evidence"][0] for i in rest]
            lines.append(_line(f"and {len(rest)} smaller {word} moves of 10+ points", ev))
    return lines


def _suggest(text: str, evidence: list[str], why: str) -> dict[str, Any]:
    return {"label": "suggestion", "text": text, "why": why, "evidence": evidence}


def _brief_of(w: Window, *, prefix: str = "") -> dict[str, Any]:
    plan_ids = sorted(plans_of(w.viewer, w.record))
    who, gaps = _who(w, plan_ids)
    health, risk_events = _health(w)
    items = ch.collect(w)
    changed = _concise(items)
    tasks = _open_tasks(w)
    today = w.as_of
    open_lines = []
    suggestions = []
    for t in tasks:
        due = f", due {t.due.isoformat()}" if t.due else ""
        late = bool(t.due and t.due < today)
        open_lines.append(_line(f"task: {t.title}{due}{' (overdue)' if late else ''}", [t.id]))
        if late:
            suggestions.append(_suggest(f"Close or reschedule {t.title!r}", [t.id], f"due {t.due}"))
    for iid, at, who_id, subject in _unanswered_open(w):
        name = w.ref(who_id)["name"]
        said = f" {subject!r}" if subject else ""
        open_lines.append(
            _line(f"unanswered email from {name} on {at.date().isoformat()}{said}", [iid, who_id])
        )
        suggestions.append(
            _suggest(f"Reply to {name}{said}", [iid, who_id], f"inbound on {at.date()}")
        )
    late_deals = []
    for d in ch.open_deals(w):
        close = f", expected close {d['close']}" if d["close"] else ""
        late = bool(d["close"] and d["close"] < today.isoformat())
        open_lines.append(
            _line(f"deal: {d['name']} at {d['stage']}, {d['amount']}{close}", [d["id"]])
        )
        if late:
            late_deals.append(d)
            suggestions.append(
                _suggest(
                    f"Update the close date or stage of {d['name']}",
                    [d["id"]],
                    f"expected close {d['close']} has passed",
                )
            )
    plan_lines, at_risk, _ = _plan(w, plan_ids)
    open_lines += at_risk
    risks = list(risk_events)
    risks += [
        _line(
            f"deal past its expected close: {d['name']} ({d['close']}, still at {d['stage']})",
            [d["id"]],
        )
        for d in late_deals
    ]
    _then, now = ch.snapshots(w)
    for i in items:
        if i["kind"] == "health_move" and i["data"]["after"] < i["data"]["before"]:
            risks.append(_line(i["text"], i["evidence"]))
        if i["kind"] in ("relationship_ended", "deal_lost"):
            risks.append(_line(i["text"], i["evidence"]))
    for g in gaps:
        ev = [g["person"]["id"], g.get("stakeholder", "")] if g.get("person") else plan_ids[:1]
        risks.append(_line(f"plan gap: {g['sentence']}", [e for e in ev if e]))
        if g["kind"] in ("cold", "past_cadence"):
            suggestions.append(_suggest(f"Reconnect with {g['person']['name']}", ev, g["sentence"]))
        elif g["kind"] == "role_missing":
            suggestions.append(
                _suggest(f"Find the {g['role'].replace('_', ' ')}", ev, g["sentence"])
            )
    if w.record.type_id == "organization":
        floor = now.cfg["engaged_strength"]
        members = {m for p in w.people for s, m in now.ties.get(p, []) if s >= floor}
        if len(members) == 1:
            (only,) = members
            name = w.team.get(only, only)
            risks.append(_line(f"single-threaded: only {name} has a warm tie here", [only]))
            suggestions.append(
                _suggest(
                    f"Bring a second colleague in beside {name}",
                    [only, w.record.id],
                    "one warm tie is one departure from none",
                )
            )
    for i in items:
        if i["kind"] == "strength_move" and i["data"]["after"] < i["data"]["before"]:
            who_name = w.ref(i["about"]["id"])["name"]
            suggestions.append(_suggest(f"Check in with {who_name}", i["evidence"], i["text"]))
    sections = [
        _section("who", f"{prefix}Who's who", who),
        _section("health", f"{prefix}Health", health),
        _section("changes", f"{prefix}What changed", changed),
        _section("open", f"{prefix}Open items", open_lines),
        _section("risks", f"{prefix}Risks", risks),
        _section("plan", f"{prefix}Plan", plan_lines),
    ]
    if len(suggestions) > SUGGESTIONS_CAP:
        suggestions = suggestions[:SUGGESTIONS_CAP]
    return {"sections": sections, "suggestions": suggestions, "changes": items}


def brief(
    viewer: Viewer,
    ref: str | None,
    *,
    since: str | dt.date | dt.datetime | None = None,
    as_of: str | dt.date | None = None,
    for_meeting: str | None = None,
) -> dict[str, Any]:
    """The brief of an organisation or person (or of a planned meeting): who's who, health
    now and then, what changed, open items, risks, the plan, and labelled suggestions."""
    if for_meeting:
        return meeting_brief(viewer, for_meeting, ref=ref, since=since, as_of=as_of)
    if not ref:
        raise ValidationError("ref: a record (or --for-meeting) is required", field="ref")
    w = window_for(viewer, ref, since, as_of)
    body = _brief_of(w)
    return {**_header(w), "meeting": None, **body}


def _meeting(viewer: Viewer, interaction_id: str) -> Interaction:
    text = (interaction_id or "").strip()
    found = visible_interactions(viewer).filter(pk=text).first() if text else None
    if found is None:
        raise NotFound(f"for_meeting: no interaction {interaction_id!r}", field="for_meeting")
    return found


def meeting_brief(
    viewer: Viewer,
    interaction_id: str,
    *,
    ref: str | None = None,
    since: str | dt.date | dt.datetime | None = None,
    as_of: str | dt.date | None = None,
) -> dict[str, Any]:
    """Prep for a meeting: its attendees (health, role, our strongest tie, last contact)
    and the brief of each of their organisations (or of ``ref``)."""
    viewer = effective_viewer(viewer)
    meeting = _meeting(viewer, interaction_id)
    day = parse_as_of(as_of) if as_of else min(meeting.at.date(), clock.today())
    team = set(ch.visible_team(viewer, day))
    people = [
        p.record
        for p in meeting.participants.all()
        if p.record.type_id == "person" and p.record_id not in team
    ]
    people = sorted({p.id: p for p in people}.values(), key=lambda p: (p.name_key, p.id))
    jobs = agg.employment(day, None, viewer=viewer) if people else []
    ids = {p.id for p in people}
    orgs_of: dict[str, list[tuple[str, str]]] = {}
    for pid, org, role in jobs:
        if pid in ids:
            orgs_of.setdefault(pid, []).append((org, role))
    names = agg.names({o for v in orgs_of.values() for o, _ in v}, viewer=viewer)
    org_ids = sorted({o for v in orgs_of.values() for o, _ in v if o in names})
    if ref:
        org_ids = [_scope(viewer, ref).id]
    lines = []
    for p in people:
        w = window_for(viewer, p, since, day)
        _then, now = ch.snapshots(w)
        ties = now.ties.get(p.id, [])
        at = "; ".join(
            f"{r + ' at ' if r else ''}{names[o]}" for o, r in orgs_of.get(p.id, []) if o in names
        )
        owner = (
            f"; strongest tie {w.team.get(ties[0][1], ties[0][1])} ({ties[0][0]:.0f})"
            if ties
            else ""
        )
        last = now.person_last.get(p.id)
        lines.append(
            _line(
                f"{p.name}{' (' + at + ')' if at else ''}: health "
                f"{now.person_score.get(p.id, 0.0):.0f}{owner}"
                f"{'; last two-way ' + last if last else '; no two-way contact yet'}",
                [p.id, *[o for o, _ in orgs_of.get(p.id, [])], *([ties[0][1]] if ties else [])],
            )
        )
    sections = [
        _section(
            "meeting",
            "Meeting",
            [
                _line(
                    f"{meeting.kind} on {ch._iso(meeting.at)}: {meeting.subject or '(no subject)'}",
                    [meeting.id],
                )
            ],
        ),
        _section("attendees", "Attendees", lines),
    ]
    suggestions: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    header: dict[str, Any] = {}
    for oid in org_ids:
        w = window_for(viewer, oid, since, day)
        header = header or _header(w)
        body = _brief_of(w, prefix=f"{w.record.name}: ")
        sections += body["sections"]
        suggestions += body["suggestions"]
        items += body["changes"]
    if not header:
        header = {
            "record": None,
            "as_of": day.isoformat(),
            "since": ch._iso(parse_since(since, as_of=day)),
            "until": ch._iso(ch._day(day + dt.timedelta(days=1))),
        }
    return {
        **header,
        "meeting": {
            "id": meeting.id,
            "kind": meeting.kind,
            "at": ch._iso(meeting.at),
            "subject": meeting.subject,
            "attendees": [{"id": p.id, "name": p.name} for p in people],
            "organisations": [{"id": o, "name": names.get(o, o)} for o in org_ids],
        },
        "sections": sections,
        "suggestions": suggestions,
        "changes": items,
    }
