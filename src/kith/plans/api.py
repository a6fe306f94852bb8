"""JSON API for plans: the CLI's commands, one service or selector call each."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.plans import selectors, services
from kith.plans.schemas import (
    CreatedOut,
    InitiativeOut,
    NextOut,
    PlanOut,
    PlanSummaryOut,
    ReadingOut,
    ReadingsOut,
    StakeholdersOut,
    TaskMadeOut,
    TemplateOut,
)
from kith.plans.suggestions import next_conversations
from kith.plans.templates import list_templates
from kith.plans.templates import save_template as save_plan_template
from kith.server.auth import acting, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS

router = Router(tags=["plans"])
Ref = Field(..., max_length=320)


class PlanIn(Schema):
    account: str = Ref
    name: str = Field(..., max_length=200)
    owner: str | None = Field(None, max_length=320)
    start: dt.date | None = None
    end: dt.date | None = None
    review_every: int | None = Field(None, ge=1, le=366, description="default 30 or the template's")
    template: str | None = Field(None, max_length=40)
    status: str = Field("active", max_length=10)
    sections: dict[str, str] = Field(default_factory=dict)
    team: list[list[str]] = Field(default_factory=list, description="[[email, role], ...]")


class PlansQuery(Schema):
    status: str | None = Field(None, max_length=10)
    at_risk: bool = False
    owner: str | None = Field(None, max_length=320)
    account: str | None = Field(None, max_length=320)


class PlanAsOf(Schema):
    as_of: dt.date | None = None


class StakeholdersQuery(Schema):
    as_of: dt.date | None = None
    gaps: bool = False


class TemplateIn(Schema):
    key: str = Field(..., max_length=40)
    body: dict[str, Any]


class GoalIn(Schema):
    text: str = Field(..., max_length=200)
    due: dt.date | None = None
    priority: str = Field("normal", max_length=10)
    owner: str | None = Field(None, max_length=320)


class CloseIn(Schema):
    closure: str = Field(..., max_length=30)
    note: str = Field("", max_length=2000)


class MilestoneIn(Schema):
    on: dt.date
    value: float


class MeasureIn(Schema):
    target: float
    by: dt.date
    metric: str | None = Field(None, max_length=80)
    baseline: str | None = Field("auto", max_length=40)
    direction: str = Field("increase", max_length=10)
    filter: dict[str, Any] | None = None
    window: str | None = Field(None, max_length=10)
    label: str = Field("", max_length=200)
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=50)
    view: str | None = Field(
        None, max_length=80, description="a saved view's name: measure its records"
    )


class ReadingIn(Schema):
    value: float
    on: dt.date | None = None
    note: str = Field("", max_length=500)


class StakeholderIn(Schema):
    person: str = Ref
    role: str = Field(..., max_length=40)
    stance: str = Field("unknown", max_length=10)
    influence: int = Field(3, ge=1, le=5)
    owner: str | None = Field(None, max_length=320)
    topics: list[str] = Field(default_factory=list)
    every: int | None = Field(None, ge=1, le=366)


class InitiativeIn(Schema):
    title: str = Field(..., max_length=200)
    owner: str | None = Field(None, max_length=320)
    their_owner: str | None = Field(None, max_length=320)
    due: dt.date | None = None
    state: str = Field("planned", max_length=12)


class InitiativeStateIn(Schema):
    state: str = Field(..., max_length=12, description="planned, in_progress, done, cancelled")
    closure: str | None = Field(
        None, max_length=20, description="done: achieved (default), partially_achieved, missed"
    )
    note: str = Field("", max_length=2000)


class ReviewIn(Schema):
    notes: str = Field("", max_length=20000)
    decisions: str = Field("", max_length=20000)
    on: dt.date | None = None
    attendees: list[str] = Field(default_factory=list)


class NextQuery(Schema):
    member: str | None = Field(None, max_length=320)
    as_of: dt.date | None = None


class NextTaskIn(Schema):
    key: str = Field(..., max_length=200)
    member: str | None = Field(None, max_length=320)
    as_of: dt.date | None = None


def _made(rec: Any) -> Status[Any]:
    return Status(201, {"id": rec.id, "name": getattr(rec, "name", "") or rec.label})


@router.get("/plans", response={200: list[PlanSummaryOut], **READ_ERRORS})
def plans(request: HttpRequest, q: Query[PlansQuery]) -> Any:
    """Plans with their goals' on/at/off-track counts."""
    viewer = viewer_of(require(request, "viewer"))
    return selectors.plans_list(
        viewer, status=q.status, at_risk=q.at_risk, owner=q.owner, account=q.account
    )


@router.post("/plans", response={201: CreatedOut, **WRITE_ERRORS})
def add_plan(request: HttpRequest, payload: PlanIn) -> Any:
    """Start a plan for an account."""
    with acting(request) as user:
        team = [(t[0], t[1] if len(t) > 1 else "") for t in payload.team if t]
        plan = services.add_plan(
            viewer=viewer_of(user),
            account=payload.account,
            name=payload.name,
            owner=payload.owner,
            start=payload.start,
            end=payload.end,
            review_every=payload.review_every,
            status=payload.status,
            sections=payload.sections,
            team=team,
            template=payload.template,
        )
    return _made(plan)


@router.get("/plans/{ref}", response={200: PlanOut, **READ_ERRORS})
def plan(request: HttpRequest, ref: str, q: Query[PlanAsOf]) -> Any:
    """A plan as of a day: goals and measures with status sentences, initiatives,
    stakeholders and gaps, reviews."""
    return selectors.plan_view(viewer_of(require(request, "viewer")), ref, as_of=q.as_of)


@router.get("/plans/{ref}/stakeholders", response={200: StakeholdersOut, **READ_ERRORS})
def stakeholders(request: HttpRequest, ref: str, q: Query[StakeholdersQuery]) -> Any:
    """The plan's stakeholder map, its coverage and gaps (``gaps``: only the gaps)."""
    viewer = viewer_of(require(request, "viewer"))
    return selectors.plan_stakeholders(viewer, ref, gaps_only=q.gaps, as_of=q.as_of)


@router.get("/plan-templates", response={200: list[TemplateOut], **READ_ERRORS})
def templates(request: HttpRequest) -> Any:
    """Plan templates: built-in and saved, each with its body."""
    return list_templates(viewer_of(require(request, "viewer")))


@router.post("/plan-templates", response={201: CreatedOut, **WRITE_ERRORS})
def save_template(request: HttpRequest, payload: TemplateIn) -> Any:
    """Save (or replace) a plan template; its body is checked path by path."""
    with acting(request) as user:
        t = save_plan_template(viewer=viewer_of(user), key=payload.key, body=payload.body)
    return Status(201, {"id": t.key, "name": str(t.body.get("name", ""))})


@router.post("/plans/{ref}/goals", response={201: CreatedOut, **WRITE_ERRORS})
def add_goal(request: HttpRequest, ref: str, payload: GoalIn) -> Any:
    """Add a goal to a plan."""
    with acting(request) as user:
        goal = services.add_goal(
            viewer=viewer_of(user),
            plan=ref,
            text=payload.text,
            due=payload.due,
            priority=payload.priority,
            owner=payload.owner,
        )
    return _made(goal)


@router.post("/plans/{ref}/stakeholders", response={201: CreatedOut, **WRITE_ERRORS})
def add_stakeholder(request: HttpRequest, ref: str, payload: StakeholderIn) -> Any:
    """Add a stakeholder to a plan."""
    with acting(request) as user:
        s = services.add_stakeholder(
            viewer=viewer_of(user),
            plan=ref,
            person=payload.person,
            role=payload.role,
            stance=payload.stance,
            influence=payload.influence,
            owner=payload.owner,
            topics=payload.topics,
            every=payload.every,
        )
    return Status(201, {"id": s.id, "name": s.person.name})


@router.post("/plans/{ref}/reviews", response={201: CreatedOut, **WRITE_ERRORS})
def add_review(request: HttpRequest, ref: str, payload: ReviewIn) -> Any:
    """Record a plan review (computed measures get a reading that day)."""
    with acting(request) as user:
        r = services.add_review(
            viewer=viewer_of(user),
            plan=ref,
            notes=payload.notes,
            decisions=payload.decisions,
            on=payload.on,
            attendees=payload.attendees,
        )
    return Status(201, {"id": r.id, "name": r.on.isoformat()})


@router.post("/goals/{ref}/close", response={200: CreatedOut, **WRITE_ERRORS})
def close_goal(request: HttpRequest, ref: str, payload: CloseIn) -> Any:
    """Close a goal with a closure code and a retrospective note."""
    with acting(request) as user:
        goal = services.close_goal(
            viewer=viewer_of(user), goal=ref, closure=payload.closure, note=payload.note
        )
    return {"id": goal.id, "name": goal.name}


@router.post("/goals/{ref}/measures", response={201: CreatedOut, **WRITE_ERRORS})
def add_measure(request: HttpRequest, ref: str, payload: MeasureIn) -> Any:
    """Measure a goal from a catalogue metric, or by hand."""
    with acting(request) as user:
        m = services.add_measure(
            viewer=viewer_of(user),
            goal=ref,
            target=payload.target,
            by=payload.by,
            metric=payload.metric,
            baseline=payload.baseline,
            direction=payload.direction,
            params=payload.filter,
            window=payload.window,
            label=payload.label,
            milestones=[(x.on, x.value) for x in payload.milestones],
            view=payload.view,
        )
    return _made(m)


@router.post("/goals/{ref}/initiatives", response={201: CreatedOut, **WRITE_ERRORS})
def add_initiative(request: HttpRequest, ref: str, payload: InitiativeIn) -> Any:
    """Add a key initiative to a goal."""
    with acting(request) as user:
        rec = services.add_initiative(
            viewer=viewer_of(user),
            goal=ref,
            title=payload.title,
            owner=payload.owner,
            their_owner=payload.their_owner,
            due=payload.due,
            state=payload.state,
        )
    return _made(rec)


@router.post("/initiatives/{ref}/state", response={200: InitiativeOut, **WRITE_ERRORS})
def move_initiative(request: HttpRequest, ref: str, payload: InitiativeStateIn) -> Any:
    """Move a key initiative to a state; done and cancelled close it with a closure code."""
    with acting(request) as user:
        rec = services.move_initiative(
            viewer=viewer_of(user),
            initiative=ref,
            state=payload.state,
            closure=payload.closure,
            note=payload.note,
        )
    f = rec.fields
    return {
        "id": rec.id,
        "title": rec.name,
        "state": f.get("state", "planned"),
        "closure": f.get("closure"),
        "closure_note": f.get("closure_note"),
    }


@router.get("/measures/{measure_id}/readings", response={200: ReadingsOut, **READ_ERRORS})
def readings(request: HttpRequest, measure_id: str, recompute: bool = False) -> Any:
    """A measure's readings over time (``recompute``: each day's value computed again)."""
    viewer = viewer_of(require(request, "viewer"))
    return selectors.readings(viewer, measure_id, recompute=recompute)


@router.post("/measures/{measure_id}/readings", response={201: ReadingOut, **WRITE_ERRORS})
def record_reading(request: HttpRequest, measure_id: str, payload: ReadingIn) -> Any:
    """Enter a reading by hand."""
    with acting(request) as user:
        r = services.record_reading(
            viewer=viewer_of(user),
            measure_id=measure_id,
            value=payload.value,
            on=payload.on,
            note=payload.note,
        )
    return Status(201, selectors.reading_view(r))


@router.get("/next", response={200: NextOut, **READ_ERRORS})
def next_(request: HttpRequest, q: Query[NextQuery]) -> Any:
    """Suggested conversations for each of our people, from the plans, with evidence."""
    viewer = viewer_of(require(request, "viewer"))
    return next_conversations(viewer, member=q.member, as_of=q.as_of)


@router.post("/next/tasks", response={201: TaskMadeOut, **WRITE_ERRORS})
def next_task(request: HttpRequest, payload: NextTaskIn) -> Any:
    """Turn a suggestion into a task (its key dedupes: taken twice, one task)."""
    with acting(request) as user:
        t = services.suggestion_to_task(
            viewer=viewer_of(user), key=payload.key, member=payload.member, as_of=payload.as_of
        )
    return Status(201, {"id": t.id, "title": t.title, "dedupe_key": t.dedupe_key})
