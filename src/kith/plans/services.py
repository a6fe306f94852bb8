"""Writes: plans, goals, measures and readings, stakeholders, initiatives, reviews.

Plans, goals and initiatives are records (``kith.records.services.add_record``) tied by
relationships (``plan_for``, ``goal_of``, ``advances``); every write here is audited.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from kith.core import clock
from kith.core.context import current_actor
from kith.core.errors import Conflict, KithError, NotFound, ValidationError
from kith.core.ids import new_id
from kith.core.parse import parse_date
from kith.core.services import audit
from kith.core.viewer import SYSTEM, Viewer
from kith.metrics.catalogue import Result, get_metric
from kith.metrics.selectors import (
    check_scope,
    find_view,
    measure,
    measure_many,
    parse_params,
    parse_window,
    view_members,
)
from kith.plans import conf
from kith.plans.models import Measure, PlanMember, Reading, Review, Stakeholder
from kith.plans.selectors import (
    compute,
    get_goal,
    get_measure,
    get_plan,
    goal_plan,
    member_record,
)
from kith.plans.suggestions import suggestion_task
from kith.plans.templates import get_template, offset
from kith.records.models import ContactPoint, Record
from kith.records.selectors import home_org, resolve
from kith.records.services import add_record, update_record
from kith.relationships.models import Relationship
from kith.relationships.selectors import team_ids
from kith.relationships.services import relate
from kith.tasks.models import Task
from kith.tasks.services import create_task

SECTIONS = ("desired_outcome", "priorities", "risks", "competitors")


def _choice(value: str | None, allowed: list[str], *, field: str, default: str) -> str:
    text = (value or default).strip().lower().replace(" ", "_").replace("-", "_")
    if text not in allowed:
        raise ValidationError(f"{field}: {value!r} is not one of {', '.join(allowed)}", field=field)
    return text


def _text(value: str, *, field: str, limit: int = 200) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"{field}: is required", field=field)
    if len(text) > limit or "\x00" in text:
        raise ValidationError(f"{field}: longer than {limit} characters", field=field)
    return text


def _day(value: str | dt.date | None, *, field: str) -> dt.date | None:
    return parse_date(value, field=field)


@transaction.atomic
def add_plan(
    *,
    viewer: Viewer,
    account: str,
    name: str,
    owner: str | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    review_every: int | None = None,
    status: str | None = "active",
    sections: Mapping[str, str] | None = None,
    team: Iterable[tuple[str, str]] = (),
    template: str | None = None,
) -> Record:
    """A plan for an account ``viewer`` may see (usually an organisation); with a
    ``template``, its goals, measures and initiatives, dated from the plan's start."""
    body = get_template(template) if template else None
    if review_every is None:  # the template's cadence, else monthly
        review_every = int((body or {}).get("review_every") or 30)
    if body is not None:
        sections = {
            **{k: str(body[k]) for k in SECTIONS if body.get(k)},
            **{k: v for k, v in (sections or {}).items() if v},
        }
    acct = resolve(viewer, account, field="account")
    if acct.type_id in ("plan", "goal", "initiative"):
        raise ValidationError(f"account: {acct.name!r} is a {acct.type_id}", field="account")
    day_start = _day(start, field="start") or clock.today()
    day_end = _day(end, field="end")
    if day_end is not None and day_end <= day_start:
        raise ValidationError(
            f"end: {day_end.isoformat()} is not after the start {day_start.isoformat()}",
            field="end",
        )
    if review_every is not None and not 1 <= review_every <= 366:
        raise ValidationError(
            f"review_every: {review_every} is outside 1..366", field="review_every"
        )
    fields: dict[str, Any] = {
        "status": _choice(status, conf.PLAN_STATUSES, field="status", default="active"),
        "start": day_start.isoformat(),
        "review_every": review_every,
    }
    if day_end is not None:
        fields["end"] = day_end.isoformat()
    if owner:
        fields["owner"] = member_record(viewer, owner, field="owner").id
    for key, text in (sections or {}).items():
        if key not in SECTIONS:
            raise ValidationError(
                f"sections: {key!r} is not one of {', '.join(SECTIONS)}", field="sections"
            )
        if text:
            fields[key] = str(text)[:5000]
    plan = add_record(type_key="plan", name=_text(name, field="name"), fields=fields, by=viewer)
    relate(a=plan.id, type_name="plan_for", b=acct.id, source="plans")
    for ref, role in team:
        person = member_record(viewer, ref, field="team")
        PlanMember.objects.get_or_create(plan=plan, person=person, defaults={"role": role[:80]})
    audit(
        "plan.created",
        target=plan.id,
        detail={"account": acct.id, "name": plan.name, "template": template or None},
    )
    if body is not None:
        _apply_template(viewer, plan, acct, body, day_start, fields.get("owner"))
    return plan


def _apply_template(
    viewer: Viewer,
    plan: Record,
    account: Record,
    body: dict[str, Any],
    start: dt.date,
    owner: str | None,
) -> None:
    """The template's goals, measures and initiatives on a new plan, dated from ``start``;
    a ``target_delta`` is added to the baseline the metric has on the start day."""
    for g in body.get("goals", []):
        goal = add_goal(
            viewer=viewer,
            plan=plan.id,
            text=g["text"],
            due=offset(start, g.get("due_days")),
            priority=g.get("priority") or "normal",
            owner=owner,
        )
        for m in g.get("measures", []):
            target = m.get("target")
            baseline: str | float | None = m.get("baseline", "auto" if m.get("metric") else None)
            if m.get("target_delta") is not None:
                found = get_metric(m["metric"])
                scope = plan if "plan" in found.scopes else account
                day = min(start, clock.today())
                res = measure(
                    viewer,
                    found.key,
                    scope,
                    as_of=day,
                    window=parse_window(m.get("window")),
                    params=parse_params(m.get("filter")),
                )
                target = (res.value or 0.0) + float(m["target_delta"])
            add_measure(
                viewer=viewer,
                goal=goal.id,
                target=float(target or 0.0),
                by=offset(start, m["by_days"]) or start,
                metric=m.get("metric") or None,
                baseline=baseline,
                direction=m.get("direction") or "increase",
                params=m.get("filter"),
                window=m.get("window"),
                label=m.get("label", ""),
            )
        for ini in g.get("initiatives", []):
            add_initiative(
                viewer=viewer,
                goal=goal.id,
                title=ini["title"],
                owner=owner,
                due=offset(start, ini.get("due_days")),
            )


@transaction.atomic
def add_goal(
    *,
    viewer: Viewer,
    plan: str,
    text: str,
    due: str | dt.date | None = None,
    priority: str | None = "normal",
    owner: str | None = None,
) -> Record:
    """A goal of a plan, due on a day."""
    rec, _ = get_plan(viewer, plan)
    fields: dict[str, Any] = {
        "priority": _choice(priority, conf.PRIORITIES, field="priority", default="normal"),
        "status": "open",
    }
    day = _day(due, field="due")
    if day is not None:
        fields["due"] = day.isoformat()
    if owner:
        fields["owner"] = member_record(viewer, owner, field="owner").id
    goal = add_record(type_key="goal", name=_text(text, field="text"), fields=fields, by=viewer)
    relate(a=goal.id, type_name="goal_of", b=rec.id, source="plans")
    audit("plan.goal_added", target=goal.id, detail={"plan": rec.id})
    return goal


@transaction.atomic
def close_goal(*, viewer: Viewer, goal: str, closure: str, note: str = "") -> Record:
    """Close a goal with a closure code and a retrospective note."""
    rec = get_goal(viewer, goal)
    code = _choice(closure, conf.CLOSURES, field="closure", default="")
    values = {"status": "closed", "closure": code, "closure_note": (note or "")[:2000]}
    out = update_record(ref=rec.id, values=values, by=viewer)
    audit("plan.goal_closed", target=rec.id, detail={"closure": code})
    return out


def _baseline(
    viewer: Viewer, m: Measure, account: Record, start: dt.date
) -> tuple[float | None, dt.date | None]:
    if start > clock.today():
        return None, None  # taken by the worker when the plan starts
    return compute(viewer, m, account, start).value, start


@transaction.atomic
def add_measure(
    *,
    viewer: Viewer,
    goal: str,
    target: float,
    by: str | dt.date,
    metric: str | None = None,
    baseline: str | float | None = "auto",
    direction: str | None = "increase",
    params: str | dict[str, Any] | None = None,
    window: str | int | None = None,
    label: str = "",
    milestones: Iterable[str | tuple[Any, Any] | Mapping[str, Any]] = (),
    view: str | None = None,
) -> Measure:
    """A measure on a goal: a catalogue metric of the plan's account, or of the records a
    saved ``view`` selects (the sum or mean ``kith metric show KEY --view NAME`` gives), or
    manual (without ``metric``); a direction, a baseline (``auto``: the metric on the plan's
    start day), a target value and day."""
    goal_rec = get_goal(viewer, goal)
    plan, account = goal_plan(viewer, goal_rec)
    target_on = _day(by, field="by")
    if target_on is None:
        raise ValidationError("by: the target date is required", field="by")
    m = Measure(
        id=new_id("msr"),
        goal=goal_rec,
        metric="",
        direction=_choice(direction, conf.DIRECTIONS, field="direction", default="increase"),
        target_value=float(target),
        target_on=target_on,
        window_days=parse_window(window),
        params=parse_params(params),
    )
    if view and not metric:
        raise ValidationError(
            f"view: {view!r} needs a --metric to measure (a manual measure has no scope)",
            field="view",
        )
    if metric and view:
        found = get_metric(metric, field="metric")
        saved = find_view(viewer, view)
        if "plan" in found.scopes:
            raise ValidationError(
                f"view: {found.key} is measured for a plan, not for a saved view", field="view"
            )
        view_members(viewer, saved, found, clock.today())  # the metric has a view's meaning
        m.metric, m.view, m.view_name = found.key, saved, saved.name
        m.label = (label or f"{found.label} of the view {saved.name}")[:200]
    elif metric:
        found = get_metric(metric, field="metric")
        check_scope(found, plan if "plan" in found.scopes else account, field="metric")
        home = home_org()
        if "plan" not in found.scopes and home is not None and account.id == home.id:
            raise ValidationError(
                f"metric: {account.name} is our own organisation; metrics measure outside "
                "relationships",
                field="metric",
            )
        m.metric = found.key
        m.label = (label or f"{found.label} at {account.name}")[:200]
    else:
        m.label = (label or goal_rec.name)[:200]
    start = parse_date(str(plan.fields.get("start") or ""), field="start") or clock.today()
    if baseline in (None, ""):
        pass
    elif str(baseline).strip().lower() == "auto":
        if not m.metric:
            raise ValidationError(
                "baseline: a manual measure needs a baseline value, not auto", field="baseline"
            )
        m.baseline_auto = True
        if m.metric:
            m.baseline_value, m.baseline_on = _baseline(viewer, m, account, start)
    else:
        try:
            m.baseline_value = float(baseline)
        except (TypeError, ValueError):
            raise ValidationError(
                f"baseline: {baseline!r} is not auto or a number", field="baseline"
            ) from None
        m.baseline_on = start
    if target_on <= start:
        raise ValidationError(
            f"by: {target_on.isoformat()} is not after the plan's start {start.isoformat()}",
            field="by",
        )
    m.milestones = _milestones(milestones, start, target_on)
    m.save(force_insert=True)
    if m.metric and start <= clock.today() and plan.fields.get("status") == "active":
        _take(m, account, clock.today(), "computed")  # today's, as the worker would take it
    audit("plan.measure_added", target=m.id, detail={"goal": goal_rec.id, "metric": m.metric})
    return m


def _many_or_each(
    metric: str,
    scopes: list[Record],
    day: dt.date,
    window: int,
    items: list[tuple[Measure, Record]],
) -> list[Result]:
    """The group's results at once; when one of them cannot be computed (a record changed
    since: merged, moved home), each alone, the failing ones read as no value with why."""
    params = items[0][0].params
    try:
        return measure_many(SYSTEM, metric, scopes, as_of=day, window=window, params=params)
    except KithError:
        out = []
        for scope in scopes:
            try:
                out.append(measure(SYSTEM, metric, scope, as_of=day, window=window, params=params))
            except KithError as exc:
                out.append(Result(None, 0, [exc.message], []))
        return out


def _milestones(
    items: Iterable[str | tuple[Any, Any] | Mapping[str, Any]], start: dt.date, end: dt.date
) -> list[list[Any]]:
    """Milestones as ``DATE=VALUE``, (date, value) or {"on", "value"}: days strictly between
    the plan's start and the target day, one a day, as [["YYYY-MM-DD", value], ...]."""
    out: dict[dt.date, float] = {}
    day_text: Any
    value_text: Any
    for item in items:
        if isinstance(item, str):
            day_text, sep, value_text = item.partition("=")
            if not sep:
                raise ValidationError(
                    f"milestone: {item!r} is not DATE=VALUE (e.g. 2026-12-31=7)", field="milestone"
                )
        elif isinstance(item, Mapping):
            day_text, value_text = item.get("on"), item.get("value")
        else:
            day_text, value_text = item
        day = _day(day_text if isinstance(day_text, dt.date) else str(day_text), field="milestone")
        try:
            value = float(value_text)
        except (TypeError, ValueError):
            raise ValidationError(
                f"milestone: {value_text!r} is not a number", field="milestone"
            ) from None
        if day is None or not start < day < end:
            raise ValidationError(
                f"milestone: {day_text} is not between the start {start.isoformat()} and the "
                f"target day {end.isoformat()}",
                field="milestone",
            )
        out[day] = value
    return [[d.isoformat(), v] for d, v in sorted(out.items())]


@transaction.atomic
def record_reading(
    *,
    viewer: Viewer,
    measure_id: str,
    value: float,
    on: str | dt.date | None = None,
    note: str = "",
) -> Reading:
    """A reading entered by hand (any measure), with a note."""
    m = get_measure(viewer, measure_id)
    day = _day(on, field="on") or clock.today()
    if day > clock.today():
        raise ValidationError(f"on: {day.isoformat()} is in the future", field="on")
    reading = Reading.objects.create(
        measure=m, on=day, value=float(value), n=1, source="manual", note=(note or "")[:500]
    )
    audit("plan.reading_recorded", target=m.id, detail={"on": day.isoformat(), "value": value})
    return reading


def _take(m: Measure, account: Record, day: dt.date, source: str) -> Reading:
    res = compute(SYSTEM, m, account, day)
    values = {
        "value": res.value,
        "n": res.n,
        "reasons": res.reasons,
        "evidence": res.evidence,
        "taken_at": clock.now(),
    }
    if source == "computed":
        reading, _ = Reading.objects.update_or_create(
            measure=m, on=day, source="computed", defaults=values
        )
        return reading
    return Reading.objects.create(measure=m, on=day, source=source, **values)


@transaction.atomic
def take_readings(*, as_of: dt.date | None = None) -> dict[str, int]:
    """Take today's reading of every computed measure of the active plans (one a day: a
    second run the same day updates it) and the automatic baselines of plans starting today
    or before. The readings are the whole workspace's (the system's view).

    Set-based: the measures' plans and accounts are read in three queries, and measures of
    one metric, window and parameters are computed together (``measure_many``: one health
    computation for all their accounts where the metric has a many-records form)."""
    day = as_of or clock.today()
    taken = baselines = 0
    measures = list(
        Measure.objects.exclude(metric="")
        .filter(goal__deleted_at=None)
        .select_related("view")
        .order_by("id")
    )
    plan_of: dict[str, str] = {}
    for goal_id, plan_id in (
        Relationship.objects.filter(
            type_id="goal_of", from_record_id__in={m.goal_id for m in measures}
        )
        .order_by("-id")
        .values_list("from_record_id", "to_record_id")
    ):
        plan_of[goal_id] = plan_id  # the first relationship wins (read last)
    plans = {
        r.id: r
        for r in Record.objects.filter(
            pk__in=set(plan_of.values()), type_id="plan", deleted_at=None
        )
    }
    account_of: dict[str, Record] = {}
    for rel in (
        Relationship.objects.filter(type_id="plan_for", from_record_id__in=list(plans))
        .select_related("to_record")
        .order_by("-id")
    ):
        if rel.to_record.deleted_at is None:
            account_of[rel.from_record_id] = rel.to_record
        else:
            account_of.pop(rel.from_record_id, None)
    groups: dict[tuple[str, int, str], list[tuple[Measure, Record]]] = {}
    alone: list[tuple[Measure, Record]] = []
    for m in measures:
        plan = plans.get(plan_of.get(m.goal_id, ""))
        account = account_of.get(plan.id) if plan else None
        if plan is None or account is None or plan.fields.get("status") != "active":
            continue
        start = parse_date(str(plan.fields.get("start") or ""), field="start") or day
        if start > day:
            continue
        if m.baseline_auto and m.baseline_value is None:
            m.baseline_value, m.baseline_on = _baseline(SYSTEM, m, account, start)
            m.save(update_fields=["baseline_value", "baseline_on"])
            baselines += 1
        if m.view_id is not None or m.view_name:
            alone.append((m, account))  # a saved view's records: measured as a whole
            continue
        scope = plan if "plan" in get_metric(m.metric).scopes else account
        key = (m.metric, m.window_days, json.dumps(m.params, sort_keys=True))
        groups.setdefault(key, []).append((m, scope))
    now = clock.now()
    ids = [m.id for items in groups.values() for m, _ in items] + [m.id for m, _ in alone]
    existing = {
        r.measure_id: r
        for r in Reading.objects.filter(measure_id__in=ids, on=day, source="computed")
    }
    fresh: list[Reading] = []
    batches = [
        (items, _many_or_each(metric, [scope for _, scope in items], day, window, items))
        for (metric, window, _), items in groups.items()
    ]
    batches += [([(m, a)], [compute(SYSTEM, m, a, day)]) for m, a in alone]
    for items, results in batches:
        for (m, _), res in zip(items, results, strict=True):
            row = existing.get(m.id) or Reading(measure=m, on=day, source="computed")
            row.value, row.n = res.value, res.n
            row.reasons, row.evidence = res.reasons, res.evidence
            row.taken_at = now
            if row.pk is None:
                fresh.append(row)
            taken += 1
    Reading.objects.bulk_update(
        list(existing.values()), ["value", "n", "reasons", "evidence", "taken_at"], batch_size=500
    )
    Reading.objects.bulk_create(fresh, batch_size=500)
    return {"readings": taken, "baselines": baselines}


@transaction.atomic
def add_stakeholder(
    *,
    viewer: Viewer,
    plan: str,
    person: str,
    role: str,
    stance: str | None = "unknown",
    influence: int | None = 3,
    owner: str | None = None,
    topics: Iterable[str] = (),
    every: int | None = None,
) -> Stakeholder:
    """A person on the customer's side in a plan, with a buying role and stance."""
    rec, _ = get_plan(viewer, plan)
    who = resolve(viewer, person, type_key="person", field="person")
    if who.id in team_ids(clock.today()):
        raise ValidationError(
            f"person: {who.name} is on our team; stakeholders are on the customer's side",
            field="person",
        )
    roles = conf.buying_roles()
    if Stakeholder.objects.filter(plan=rec, person=who).exists():
        raise Conflict(f"person: {who.name} is already a stakeholder of {rec.name}", field="person")
    if influence is not None and not 1 <= influence <= 5:
        raise ValidationError(f"influence: {influence} is outside 1..5", field="influence")
    if every is not None and not 1 <= every <= 366:
        raise ValidationError(f"every: {every} is outside 1..366 days", field="every")
    s = Stakeholder.objects.create(
        id=new_id("stk"),
        plan=rec,
        person=who,
        role=_choice(role, roles, field="role", default=""),
        stance=_choice(stance, conf.STANCES, field="stance", default="unknown"),
        influence=influence or 3,
        owner=member_record(viewer, owner, field="owner") if owner else None,
        topics=[t.strip()[:200] for t in topics if t and t.strip()],
        every_days=every,
    )
    audit("plan.stakeholder_added", target=rec.id, detail={"person": who.id, "role": s.role})
    return s


@transaction.atomic
def add_initiative(
    *,
    viewer: Viewer,
    goal: str,
    title: str,
    owner: str | None = None,
    their_owner: str | None = None,
    due: str | dt.date | None = None,
    state: str | None = "planned",
) -> Record:
    """A key initiative advancing a goal: our owner, their owner, due, state."""
    goal_rec = get_goal(viewer, goal)
    fields: dict[str, Any] = {
        "state": _choice(state, conf.INITIATIVE_STATES, field="state", default="planned")
    }
    if owner:
        fields["owner"] = member_record(viewer, owner, field="owner").id
    if their_owner:
        fields["their_owner"] = resolve(
            viewer, their_owner, type_key="person", field="their_owner"
        ).id
    day = _day(due, field="due")
    if day is not None:
        fields["due"] = day.isoformat()
    rec = add_record(
        type_key="initiative", name=_text(title, field="title"), fields=fields, by=viewer
    )
    relate(a=rec.id, type_name="advances", b=goal_rec.id, source="plans")
    audit("plan.initiative_added", target=rec.id, detail={"goal": goal_rec.id})
    return rec


def get_initiative(viewer: Viewer, ref: str, *, field: str = "initiative") -> Record:
    """A key initiative ``viewer`` may see, of a goal of a plan they may see."""
    try:
        rec = resolve(viewer, ref, type_key="initiative", field=field)
    except KithError:
        raise NotFound(f"{field}: no initiative matches {ref!r}", field=field) from None
    rel = (
        Relationship.objects.filter(from_record=rec, type_id="advances")
        .select_related("to_record")
        .order_by("id")
        .first()
    )
    if rel is None or rel.to_record.deleted_at is not None:
        raise NotFound(f"{field}: no initiative matches {ref!r}", field=field)
    try:
        get_goal(viewer, rel.to_record_id)
    except NotFound:
        raise NotFound(f"{field}: no initiative matches {ref!r}", field=field) from None
    return rec


@transaction.atomic
def move_initiative(
    *,
    viewer: Viewer,
    initiative: str,
    state: str,
    closure: str | None = None,
    note: str = "",
) -> Record:
    """Move a key initiative to a state (planned, in_progress, done, cancelled). Done and
    cancelled close it with a closure code (done: achieved unless said; cancelled:
    cancelled) and a note; moving it back to planned or in progress reopens it."""
    rec = get_initiative(viewer, initiative)
    to = _choice(state, conf.INITIATIVE_STATES, field="state", default="")
    values: dict[str, Any] = {"state": to}
    code: str | None = None
    if to in ("done", "cancelled"):
        if to == "done":  # cancelled is the cancelled state's own closure
            done_codes = [c for c in conf.CLOSURES if c != "cancelled"]
            code = _choice(closure, done_codes, field="closure", default="achieved")
        else:
            code = _choice(closure, ["cancelled"], field="closure", default="cancelled")
        values["closure"] = code
        values["closure_note"] = (note or "").strip()[:2000]
    elif closure:
        raise ValidationError(
            f"closure: {closure!r} only closes a done or cancelled initiative, not {to}",
            field="closure",
        )
    else:
        values["closure"] = None
        values["closure_note"] = None
    before = rec.fields.get("state", "planned")
    if before == to and rec.fields.get("closure") == values.get("closure"):
        return rec  # already there: nothing changes, nothing is audited
    out = update_record(ref=rec.id, values=values, by=viewer)
    audit(
        "plan.initiative_moved",
        target=rec.id,
        detail={"from": before, "to": to, "closure": code},
    )
    return out


@transaction.atomic
def add_review(
    *,
    viewer: Viewer,
    plan: str,
    notes: str = "",
    decisions: str = "",
    on: str | dt.date | None = None,
    attendees: Iterable[str] = (),
) -> Review:
    """A review of a plan on a day; each computed measure gets a reading that day."""
    rec, account = get_plan(viewer, plan)
    day = _day(on, field="on") or clock.today()
    if day > clock.today():
        raise ValidationError(f"on: {day.isoformat()} is in the future", field="on")
    start = parse_date(str(rec.fields.get("start") or ""), field="start")
    if start is not None and day < start:
        raise ValidationError(
            f"on: {day.isoformat()} is before the plan's start {start.isoformat()}", field="on"
        )
    people = [resolve(viewer, a, field="attendees").id for a in attendees]
    review = Review.objects.create(
        id=new_id("rev"),
        plan=rec,
        on=day,
        notes=(notes or "")[:20000],
        decisions=(decisions or "")[:20000],
        attendees=people,
        created_by=current_actor()[:254],
    )
    goals = Record.objects.filter(
        type_id="goal",
        deleted_at=None,
        outgoing__type_id="goal_of",
        outgoing__to_record=rec,
    )
    for m in Measure.objects.filter(goal__in=goals).exclude(metric=""):
        _take(m, account, day, "review")
    audit("plan.reviewed", target=rec.id, detail={"review": review.id, "on": day.isoformat()})
    return review


@transaction.atomic
def suggestion_to_task(
    *, viewer: Viewer, key: str, member: str | None = None, as_of: str | dt.date | None = None
) -> Task:
    """Turn a suggested conversation into a task (one per suggestion: its key dedupes)."""
    s = suggestion_task(viewer, key, member=member, as_of=as_of)
    owner = None
    for email in ContactPoint.objects.filter(record_id=s["member"]["id"], kind="email").values_list(
        "normalized", flat=True
    ):
        if User.objects.filter(username=email, is_active=True).exists():
            owner = email
            break
    topics = "; ".join(s["topics"])
    notes = f"Suggested by the plan {s['plan']['name']}: {s['why']}"
    if topics:
        notes += f"\nTopics: {topics}"
    intro = s["introduction"]
    if intro:
        notes += f"\nIntroduction: {intro.get('via') or intro.get('find')}"
    return create_task(
        viewer=viewer,
        title=f"Talk to {s['person']['name']} ({s['account']['name']})"
        + ("" if owner else f" — for {s['member']['name']}"),
        about=[s["person"]["id"], s["plan"]["id"]],
        owner=owner,
        notes=notes,
        source="plan",
        source_ref=s["plan"]["id"],
        dedupe_key=key,
    )
