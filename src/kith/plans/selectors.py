"""Reads: plans with their goals, measures (status from the trend), initiatives and reviews.

A plan exists for a viewer only when they may see both the plan record and its account;
stakeholders the viewer may not see are left out of every list, count and reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from kith.core import clock
from kith.core.errors import KithError, NotFound, ValidationError
from kith.core.parse import parse_date
from kith.core.viewer import SYSTEM, Viewer
from kith.metrics.catalogue import Result, get_metric
from kith.metrics.selectors import measure, measure_view
from kith.plans.conf import PLAN_STATUSES
from kith.plans.models import Measure, PlanMember, Reading, Review, Stakeholder
from kith.plans.stakeholders import stakeholders_state, stakeholders_states
from kith.plans.trend import assess, theil_sen
from kith.records.models import Record
from kith.records.selectors import effective_viewer, resolve, visible_q
from kith.relationships.models import Relationship
from kith.relationships.selectors import team_ids

SERIES_CAP = 104  # readings a measure's sparkline shows (two years of weekly ones)


def _date(value: Any) -> dt.date | None:
    return parse_date(str(value), field="date") if value else None


def member_record(viewer: Viewer, ref: str, *, field: str) -> Record:
    """One of our people (a person on the team today), by email, name or id."""
    person = resolve(viewer, ref, type_key="person", field=field)
    if person.id not in team_ids(clock.today()):
        raise ValidationError(f"{field}: {person.name} is not on our team", field=field)
    return person


def account_of(viewer: Viewer, plan: Record) -> Record:
    """The record a plan is for; NotFound when the viewer may not see it."""
    rel = (
        Relationship.objects.filter(from_record=plan, type_id="plan_for")
        .select_related("to_record__type")
        .order_by("id")
        .first()
    )
    if rel is None or rel.to_record.deleted_at is not None:
        raise NotFound(f"plan: no plan matches {plan.id!r}", field="plan")
    acct = rel.to_record
    if not Record.objects.filter(visible_q(viewer), pk=acct.pk).exists():
        raise NotFound(f"plan: no plan matches {plan.id!r}", field="plan")
    return acct


def get_plan(viewer: Viewer, ref: str, *, field: str = "plan") -> tuple[Record, Record]:
    """(plan, account) for a plan reference ``viewer`` may see."""
    try:
        plan = resolve(viewer, ref, type_key="plan", field=field)
    except NotFound:
        raise NotFound(f"{field}: no plan matches {ref!r}", field=field) from None
    return plan, account_of(viewer, plan)


def get_goal(viewer: Viewer, ref: str, *, field: str = "goal") -> Record:
    """A goal ``viewer`` may see, of a plan they may see."""
    try:
        goal = resolve(viewer, ref, type_key="goal", field=field)
    except NotFound:
        raise NotFound(f"{field}: no goal matches {ref!r}", field=field) from None
    goal_plan(viewer, goal)
    return goal


def goal_plan(viewer: Viewer, goal: Record) -> tuple[Record, Record]:
    """(plan, account) of a goal."""
    rel = Relationship.objects.filter(from_record=goal, type_id="goal_of").order_by("id").first()
    if rel is None:
        raise NotFound(f"goal: {goal.id} belongs to no plan", field="goal")
    plan = Record.objects.filter(visible_q(viewer), pk=rel.to_record_id, deleted_at=None).first()
    if plan is None:
        raise NotFound(f"goal: no goal matches {goal.id!r}", field="goal")
    return plan, account_of(viewer, plan)


def get_measure(viewer: Viewer, measure_id: str) -> Measure:
    m = Measure.objects.select_related("goal").filter(pk=(measure_id or "").strip()).first()
    if m is None or m.goal.deleted_at is not None:
        raise NotFound(f"measure: no measure matches {measure_id!r}", field="measure")
    try:
        get_goal(viewer, m.goal.id, field="measure")
    except NotFound:
        raise NotFound(f"measure: no measure matches {measure_id!r}", field="measure") from None
    return m


def _children(parent: Record, rel_type: str, type_key: str, viewer: Viewer) -> list[Record]:
    return list(
        Record.objects.filter(
            visible_q(viewer),
            type_id=type_key,
            deleted_at=None,
            outgoing__type_id=rel_type,
            outgoing__to_record=parent,
        )
        .distinct()
        .order_by("created_at", "id")
    )


def _ref(rec: Record | None) -> dict[str, str] | None:
    return {"id": rec.id, "name": rec.name, "type": rec.type_id} if rec else None


def _names(ids: set[str], viewer: Viewer) -> dict[str, Record]:
    return {r.id: r for r in Record.objects.filter(visible_q(viewer), pk__in=ids)}


# -- measures -----------------------------------------------------------------------------


def metric_scope(m: Measure, account: Record) -> Record:
    """The record a measure's metric is computed for: its plan for a plan metric
    (``roles.warm``), else the plan's account."""
    if m.metric and "plan" in get_metric(m.metric).scopes:
        rel = (
            Relationship.objects.filter(from_record_id=m.goal_id, type_id="goal_of")
            .select_related("to_record")
            .order_by("id")
            .first()
        )
        if rel is not None:
            return rel.to_record
    return account


def compute(viewer: Viewer, m: Measure, account: Record, day: dt.date) -> Result:
    """A computed measure's metric as of ``day`` for ``viewer``: for its saved view (the
    sum or mean over the records the view selects, ``kith metric show KEY --view NAME``),
    else for its plan's account (or its plan, for a plan metric)."""
    if m.view_id is not None or m.view_name:
        view = m.view
        if view is None:
            return Result(None, 0, [f"the saved view {m.view_name!r} was deleted"], [])
        try:
            res, _ = measure_view(
                viewer, m.metric, view, as_of=day, window=m.window_days, params=m.params
            )
        except KithError as exc:  # the view's filters no longer parse (a field removed)
            return Result(None, 0, [exc.message], [])
        return res
    scope = metric_scope(m, account)
    return measure(viewer, m.metric, scope, as_of=day, window=m.window_days, params=m.params)


def scope_view(m: Measure, account: Record) -> dict[str, Any]:
    """What a measure is measured for: its saved view, or the plan's account."""
    if m.view_id is not None or m.view_name:
        return {"type": "view", "id": m.view_id, "name": m.view_name, "deleted": m.view is None}
    return {"type": account.type_id, "id": account.id, "name": account.name}


def measure_state(
    viewer: Viewer, m: Measure, account: Record, day: dt.date, *, live: bool = True
) -> dict[str, Any]:
    """A measure as of ``day``: its readings up to then, the trend, the status and its
    sentence. The stored computed readings are the whole workspace's (the system's view):

    - a viewer hidden nothing gets them as they are; with ``live``, the day's value is the
      day's stored reading when the worker (or a review) took one, else it is computed;
    - a viewer some records are hidden from gets no stored computed reading (they could
      count what is hidden): the metric is computed for them on the baseline day and on
      ``day``, beside the readings entered by hand.
    """
    rows = list(m.readings.filter(on__lte=day).order_by("on", "id"))
    shared = effective_viewer(viewer) is SYSTEM
    if not shared and m.metric:
        rows = [r for r in rows if r.source == "manual"]
    points = [(r.on, r.value) for r in rows if r.value is not None]
    current: dict[str, Any] | None = None
    baseline = m.baseline_value
    taken = next((r for r in reversed(rows) if r.on == day and r.source != "manual"), None)
    if m.metric and live and shared and taken is not None:
        current = {"value": taken.value, "n": taken.n, "reasons": taken.reasons}
        current["evidence"] = taken.evidence
    elif m.metric and (live or not shared):
        res = compute(viewer, m, account, day)
        points = [p for p in points if p[0] != day]
        if res.value is not None:
            points.append((day, res.value))
        current = {"value": res.value, "n": res.n, "reasons": res.reasons}
        current["evidence"] = res.evidence
        if not shared and m.baseline_on is not None and m.baseline_on < day:
            base = compute(viewer, m, account, m.baseline_on)
            baseline = base.value
            if base.value is not None:
                points.append((m.baseline_on, base.value))
    a = assess(
        label=m.label,
        direction=m.direction,
        baseline=baseline,
        baseline_on=m.baseline_on,
        target=m.target_value,
        target_on=m.target_on,
        points=[(d, float(v)) for d, v in points],
        as_of=day,
        milestones=milestones_of(m),
    )
    series = sorted((d, float(v)) for d, v in points)
    line = theil_sen(series)
    trend = None
    if line is not None and a.projected is not None:
        fit, origin = line
        trend = {
            "from": {"on": origin.isoformat(), "value": round(fit.at(origin, origin), 2)},
            "to": {"on": max(m.target_on, day).isoformat(), "value": a.projected},
        }
    return {
        "id": m.id,
        "label": m.label,
        "metric": m.metric or None,
        "params": m.params,
        "scope": scope_view(m, account) if m.metric else None,
        "window_days": m.window_days,
        "direction": m.direction,
        "baseline": {"value": baseline, "on": m.baseline_on.isoformat() if m.baseline_on else None},
        "target": {"value": m.target_value, "by": m.target_on.isoformat()},
        "milestones": [{"on": d, "value": v} for d, v in m.milestones],
        "current": a.current,
        "projected": a.projected,
        "pace_per_month": a.slope_per_month,
        "status": a.status,
        "sentence": a.sentence,
        "readings": len(points),
        "series": [[d.isoformat(), v] for d, v in series[-SERIES_CAP:]],
        "trend": trend,
        "now": current,
    }


def milestones_of(m: Measure) -> list[tuple[dt.date, float]]:
    return [(dt.date.fromisoformat(d), float(v)) for d, v in m.milestones or []]


def reading_view(r: Reading) -> dict[str, Any]:
    return {
        "on": r.on.isoformat(),
        "value": r.value,
        "n": r.n,
        "source": r.source,
        "note": r.note,
        "reasons": r.reasons,
        "evidence": r.evidence,
    }


def readings(viewer: Viewer, measure_id: str, *, recompute: bool = False) -> dict[str, Any]:
    """A measure's readings, oldest first; ``recompute`` adds the metric recomputed as of
    each reading's day beside what was taken."""
    m = get_measure(viewer, measure_id)
    _, account = goal_plan(viewer, m.goal)
    out = []
    for r in m.readings.order_by("on", "id"):
        item = reading_view(r)
        if recompute and m.metric:
            item["recomputed"] = compute(viewer, m, account, r.on).value
        out.append(item)
    return {"measure": m.id, "label": m.label, "metric": m.metric or None, "readings": out}


# -- plans ---------------------------------------------------------------------------------


def _goal_view(viewer: Viewer, goal: Record, account: Record, day: dt.date) -> dict[str, Any]:
    measures = [
        measure_state(viewer, m, account, day)
        for m in Measure.objects.filter(goal=goal)
        .select_related("view")
        .order_by("created_at", "id")
    ]
    states = [m["status"] for m in measures]
    status = "unknown"
    for worst in ("off track", "at risk", "on track"):
        if worst in states:
            status = worst
            break
    f = goal.fields
    return {
        "id": goal.id,
        "text": goal.name,
        "due": f.get("due"),
        "priority": f.get("priority", "normal"),
        "status": f.get("status", "open"),
        "closure": f.get("closure"),
        "closure_note": f.get("closure_note"),
        "owner": f.get("owner"),
        "track": status if f.get("status") != "closed" else "closed",
        "measures": measures,
    }


def _initiative_view(rec: Record, goal: Record, people: dict[str, Record]) -> dict[str, Any]:
    f = rec.fields
    return {
        "id": rec.id,
        "title": rec.name,
        "goal": goal.id,
        "owner": _ref(people.get(f.get("owner", ""))),
        "their_owner": _ref(people.get(f.get("their_owner", ""))),
        "due": f.get("due"),
        "state": f.get("state", "planned"),
        "closure": f.get("closure"),
        "closure_note": f.get("closure_note"),
    }


def plan_view(viewer: Viewer, ref: str, *, as_of: str | dt.date | None = None) -> dict[str, Any]:
    """A plan as of a day: goals with each measure's status sentence, initiatives, the
    stakeholder map with its gaps, reviews, and the plan's health (counts, not a score)."""
    day = parse_date(as_of, field="as_of") or clock.today()
    plan, account = get_plan(viewer, ref)
    f = plan.fields
    goals = _children(plan, "goal_of", "goal", viewer)
    goal_views = [_goal_view(viewer, g, account, day) for g in goals]
    inits: list[tuple[Record, Record]] = [
        (i, g) for g in goals for i in _children(g, "advances", "initiative", viewer)
    ]
    ids = {str(i.fields.get(k, "")) for i, _ in inits for k in ("owner", "their_owner")}
    ids |= {str(f.get("owner", ""))} | {str(g["owner"] or "") for g in goal_views}
    people = _names(ids - {""}, viewer)
    for g in goal_views:
        g["owner"] = _ref(people.get(g["owner"] or ""))
    team = [
        {**(_ref(pm.person) or {}), "role": pm.role}
        for pm in PlanMember.objects.filter(plan=plan)
        .filter(visible_q(viewer, "person__"))
        .select_related("person")
        .order_by("id")
    ]
    reviews = list(Review.objects.filter(plan=plan, on__lte=day).order_by("on", "created_at"))
    every = f.get("review_every")
    start = _date(f.get("start")) or day
    last_review = reviews[-1].on if reviews else None
    overdue = bool(
        every and f.get("status") == "active" and (day - (last_review or start)).days > int(every)
    )
    stake = stakeholders_state(viewer, plan, account, day)
    counts = {"on track": 0, "at risk": 0, "off track": 0, "unknown": 0}
    for g in goal_views:
        if g["track"] in counts:
            counts[g["track"]] += 1
    health = {
        "goals": counts,
        "roles_filled": stake["coverage"]["filled"],
        "roles_missing": stake["coverage"]["missing"],
        "roles_cold": stake["coverage"]["cold"],
        "past_cadence": stake["coverage"]["past_cadence"],
        "review_overdue": overdue,
    }
    sentence = _health_sentence(health, every, last_review)
    return {
        "id": plan.id,
        "name": plan.name,
        "as_of": day.isoformat(),
        "account": _ref(account),
        "status": f.get("status", "draft"),
        "owner": _ref(people.get(str(f.get("owner", "")))),
        "team": team,
        "period": {"start": f.get("start"), "end": f.get("end")},
        "review_every": every,
        "sections": {
            k: f.get(k, "") for k in ("desired_outcome", "priorities", "risks", "competitors")
        },
        "health": health,
        "summary": sentence,
        "goals": goal_views,
        "initiatives": [_initiative_view(i, g, people) for i, g in inits],
        "stakeholders": stake["stakeholders"],
        "gaps": stake["gaps"],
        "reviews": [
            {
                "id": r.id,
                "on": r.on.isoformat(),
                "notes": r.notes,
                "decisions": r.decisions,
                "attendees": r.attendees,
            }
            for r in reviews
        ],
    }


def plan_stakeholders(
    viewer: Viewer, ref: str, *, gaps_only: bool = False, as_of: str | dt.date | None = None
) -> dict[str, Any]:
    """A plan's stakeholder map as of a day (derived strength, contact against cadence, who
    is warm), its coverage of the required roles, and the gaps (suggestions)."""
    day = parse_date(as_of, field="as_of") or clock.today()
    plan, account = get_plan(viewer, ref)
    stake = stakeholders_state(viewer, plan, account, day)
    out: dict[str, Any] = {
        "plan": plan.id,
        "as_of": day.isoformat(),
        "coverage": stake["coverage"],
        "gaps": stake["gaps"],
    }
    if not gaps_only:
        out["stakeholders"] = stake["stakeholders"]
    return out


def _health_sentence(health: dict[str, Any], every: Any, last: dt.date | None) -> str:
    g = health["goals"]
    parts = [f"goals: {g['on track']} on track, {g['at risk']} at risk, {g['off track']} off track"]
    if health["roles_missing"]:
        parts.append("no " + ", ".join(r.replace("_", " ") for r in health["roles_missing"]))
    if health["roles_cold"]:
        parts.append("cold: " + ", ".join(r.replace("_", " ") for r in health["roles_cold"]))
    if health["past_cadence"]:
        parts.append(f"{health['past_cadence']} stakeholders past their cadence")
    if health["review_overdue"]:
        since = f" (last {last.isoformat()})" if last else " (none yet)"
        parts.append(f"review overdue{since}, every {every} days")
    return "; ".join(parts)


def plans_list(
    viewer: Viewer,
    *,
    status: str | None = None,
    at_risk: bool = False,
    owner: str | None = None,
    account: str | None = None,
    as_of: str | dt.date | None = None,
) -> list[dict[str, Any]]:
    """Plans ``viewer`` may see (and whose account they may see), with on/at/off-track
    counts from the stored readings (the worker keeps them current)."""
    day = parse_date(as_of, field="as_of") or clock.today()
    rels = Relationship.objects.filter(
        type_id="plan_for",
        from_record__deleted_at=None,
        to_record__deleted_at=None,
    ).filter(visible_q(viewer, "from_record__"), visible_q(viewer, "to_record__"))
    if account:
        rels = rels.filter(to_record=resolve(viewer, account, field="account"))
    if owner:
        person = member_record(viewer, owner, field="owner")
        rels = rels.filter(from_record__fields__owner=person.id)
    if status:
        wanted = status.strip().lower()
        if wanted not in PLAN_STATUSES:
            raise ValidationError(
                f"status: {status!r} is not one of {', '.join(PLAN_STATUSES)}", field="status"
            )
        rels = rels.filter(from_record__fields__status=wanted)
    rows = list(rels.select_related("from_record", "to_record").order_by("from_record__name_key"))
    goals_of = plan_goals(viewer, [r.from_record_id for r in rows])
    accounts = {g.id: r.to_record for r in rows for g in goals_of[r.from_record_id]}
    tracks = goal_tracks(viewer, list(accounts), day, accounts)
    out = []
    for rel in rows:
        plan, acct = rel.from_record, rel.to_record
        counts = {"on track": 0, "at risk": 0, "off track": 0, "unknown": 0}
        for g in goals_of[plan.id]:
            if g.fields.get("status") == "closed":
                continue
            counts[tracks[g.id]["track"]] += 1
        item = {
            "id": plan.id,
            "name": plan.name,
            "account": _ref(acct),
            "status": plan.fields.get("status", "draft"),
            "owner": plan.fields.get("owner"),
            "period": {"start": plan.fields.get("start"), "end": plan.fields.get("end")},
            "goals": counts,
        }
        if at_risk and not (counts["at risk"] or counts["off track"]):
            continue
        out.append(item)
    return out


def goal_tracks(
    viewer: Viewer, goal_ids: list[str], day: dt.date, accounts: dict[str, Record] | None = None
) -> dict[str, dict[str, Any]]:
    """Each goal's track from its measures' stored readings up to ``day`` (the worker's
    daily readings, reviews' and hand-entered ones), in three queries for any number of
    goals: goal id -> {"track", "measures": [{"id", "label", "status", "sentence"}]}. For a
    viewer some records are hidden from, each computed measure is computed for them
    (``measure_state``; ``accounts``: goal id -> the plan's account)."""
    measures = list(Measure.objects.filter(goal_id__in=goal_ids).order_by("created_at", "id"))
    if effective_viewer(viewer) is not SYSTEM:
        return _tracks_for(viewer, measures, goal_ids, day, accounts or {})
    points: dict[str, list[tuple[dt.date, float]]] = {m.id: [] for m in measures}
    for mid, on, value in (
        Reading.objects.filter(measure_id__in=list(points), on__lte=day)
        .exclude(value=None)
        .values_list("measure_id", "on", "value")
    ):
        if value is not None:
            points[mid].append((on, float(value)))
    out: dict[str, dict[str, Any]] = {g: {"track": "unknown", "measures": []} for g in goal_ids}
    for m in measures:
        a = assess(
            label=m.label,
            direction=m.direction,
            baseline=m.baseline_value,
            baseline_on=m.baseline_on,
            target=m.target_value,
            target_on=m.target_on,
            points=points[m.id],
            as_of=day,
            milestones=milestones_of(m),
        )
        out[m.goal_id]["measures"].append(
            {"id": m.id, "label": m.label, "status": a.status, "sentence": a.sentence}
        )
    for g in out.values():
        states = {m["status"] for m in g["measures"]}
        g["track"] = next(
            (w for w in ("off track", "at risk", "on track") if w in states), "unknown"
        )
    return out


def _tracks_for(
    viewer: Viewer,
    measures: list[Measure],
    goal_ids: list[str],
    day: dt.date,
    accounts: dict[str, Record],
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {g: {"track": "unknown", "measures": []} for g in goal_ids}
    for m in measures:
        st = measure_state(viewer, m, accounts[m.goal_id], day, live=False)
        out[m.goal_id]["measures"].append({k: st[k] for k in ("id", "label", "status", "sentence")})
    for g in out.values():
        states = {m["status"] for m in g["measures"]}
        g["track"] = next(
            (w for w in ("off track", "at risk", "on track") if w in states), "unknown"
        )
    return out


def plan_goals(viewer: Viewer, plan_ids: list[str]) -> dict[str, list[Record]]:
    """The goals ``viewer`` may see of many plans, in one query: plan id -> goals."""
    out: dict[str, list[Record]] = {p: [] for p in plan_ids}
    rels = (
        Relationship.objects.filter(
            type_id="goal_of", to_record_id__in=plan_ids, from_record__deleted_at=None
        )
        .filter(visible_q(viewer, "from_record__"), from_record__type_id="goal")
        .select_related("from_record")
        .order_by("from_record__created_at", "from_record_id")
    )
    for rel in rels:
        out[rel.to_record_id].append(rel.from_record)
    return out


def plans_of(viewer: Viewer, record: Record) -> list[str]:
    """Ids of the plans for a record (visible to ``viewer``)."""
    return list(
        Record.objects.filter(
            visible_q(viewer),
            type_id="plan",
            deleted_at=None,
            outgoing__type_id="plan_for",
            outgoing__to_record=record,
        ).values_list("id", flat=True)
    )


def active_plans(viewer: Viewer) -> list[tuple[Record, Record]]:
    """(plan, account) of every active plan ``viewer`` may see."""
    rels = (
        Relationship.objects.filter(
            type_id="plan_for", from_record__deleted_at=None, to_record__deleted_at=None
        )
        .filter(visible_q(viewer, "from_record__"), visible_q(viewer, "to_record__"))
        .filter(Q(from_record__fields__status="active"))
        .select_related("from_record", "to_record__type")
        .order_by("from_record_id")
    )
    return [(r.from_record, r.to_record) for r in rels]


def map_stakeholders(
    viewer: Viewer, record: Record, *, as_of: dt.date | None = None
) -> dict[str, Any] | None:
    """The stakeholder overlay of a relationship map: for the active plans of ``record`` (an
    account with a plan, or a person who is a stakeholder in one) that ``viewer`` may see,
    each stakeholder ``viewer`` may see with buying role, stance and warmth (the band of the
    plan's stakeholder grid) as of ``as_of``. None when there is no such plan."""
    viewer = effective_viewer(viewer)
    day = as_of or clock.today()
    rels = (
        Relationship.objects.filter(
            type_id="plan_for", from_record__deleted_at=None, to_record__deleted_at=None
        )
        .filter(visible_q(viewer, "from_record__"), visible_q(viewer, "to_record__"))
        .filter(from_record__fields__status="active")
        .filter(
            Q(to_record=record)
            | Q(from_record__in=Stakeholder.objects.filter(person=record).values("plan_id"))
        )
        .select_related("from_record", "to_record")
        .order_by("from_record__created_at", "from_record_id")
    )
    plans = [(r.from_record, r.to_record) for r in rels]
    if not plans:
        return None
    states = stakeholders_states(viewer, plans, day)
    people: list[dict[str, Any]] = []
    for plan, _ in plans:
        for s in states[plan.id]["stakeholders"]:
            people.append(
                {
                    "id": s["person"]["id"],
                    "name": s["person"]["name"],
                    "plan": plan.id,
                    "plan_name": plan.name,
                    "role": s["role"],
                    "role_label": s["role"].replace("_", " "),
                    "stance": s["stance"],
                    "band": s["band"],
                    "health": s["health"],
                    "warm_with": [w["name"] for w in s["warm"]],
                    "works_there": s["works_there"],
                }
            )
    return {
        "as_of": day.isoformat(),
        "plans": [
            {"id": p.id, "name": p.name, "account": {"id": a.id, "name": a.name}} for p, a in plans
        ],
        "stakeholders": people,
    }
