"""CLI: kith plan add/show/stakeholders/review, kith plans, kith goal add/close,
kith measure add/record/readings, kith stakeholder add, kith initiative add/move/start/done/
cancel/reopen, kith next."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say, table

plan_app = typer.Typer(
    help="Relationship plans: goals, measures, stakeholders.", no_args_is_help=True
)
goal_app = typer.Typer(help="Goals of a plan.", no_args_is_help=True)
measure_app = typer.Typer(help="Measures on goals and their readings.", no_args_is_help=True)
stakeholder_app = typer.Typer(help="Stakeholders of a plan.", no_args_is_help=True)
initiative_app = typer.Typer(help="Key initiatives advancing goals.", no_args_is_help=True)

AsOf = Annotated[str | None, typer.Option("--as-of", help="As of this day (default today).")]
PlanRef = Annotated[str, typer.Argument(metavar="PLAN", help="The plan: id or exact name.")]
GoalRef = Annotated[str, typer.Argument(metavar="GOAL", help="The goal: id or exact text.")]


def _system() -> Any:
    from kith.core.viewer import SYSTEM

    return SYSTEM


def _created(kind: str, rec: Any, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    data = {
        "id": rec.id,
        "name": getattr(rec, "name", "") or getattr(rec, "label", ""),
        **(extra or {}),
    }
    emit(data, as_json, lambda v: say(f"{kind} {v['id']}: {v['name']}"))


@plan_app.command("add")
def cmd_plan_add(
    account: Annotated[str, typer.Argument(metavar="ACCOUNT", help="The record it is for.")],
    name: Annotated[str, typer.Option("--name", help="The plan's name.")],
    start: Annotated[str | None, typer.Option("--start", help="First day (default today).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last day.")] = None,
    review_every: Annotated[
        int | None,
        typer.Option("--review-every", help="Days between reviews (default 30 or the template's)."),
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="One of our people.")] = None,
    status: Annotated[str, typer.Option("--status", help="draft, active or closed.")] = "active",
    team: Annotated[
        list[str] | None, typer.Option("--team", help="EMAIL[:ROLE] of our plan team.")
    ] = None,
    outcome: Annotated[str, typer.Option("--outcome", help="The desired outcome.")] = "",
    priorities: Annotated[str, typer.Option("--priorities")] = "",
    risks: Annotated[str, typer.Option("--risks")] = "",
    competitors: Annotated[str, typer.Option("--competitors")] = "",
    template: Annotated[
        str | None,
        typer.Option("--template", help="Goals, measures, initiatives from a template."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Start a relationship plan for an account (from a template: kith plan template list)."""
    open_workspace()
    from kith.plans.services import add_plan

    members = [(t.split(":", 1)[0], t.split(":", 1)[1] if ":" in t else "") for t in team or []]
    plan = add_plan(
        viewer=_system(),
        account=account,
        name=name,
        owner=owner,
        start=start,
        end=end,
        review_every=review_every,
        status=status,
        sections={
            "desired_outcome": outcome,
            "priorities": priorities,
            "risks": risks,
            "competitors": competitors,
        },
        team=members,
        template=template,
    )
    _created("plan", plan, as_json)


def _render_plan(v: dict[str, Any]) -> None:
    say(f"{v['name']} ({v['id']}) for {v['account']['name']}: {v['status']}, as of {v['as_of']}")
    period = v["period"]
    owner = v["owner"]["name"] if v["owner"] else "nobody"
    say(f"  period {period['start']} .. {period['end'] or 'open'}; owner {owner}")
    say(f"  {v['summary']}")
    for g in v["goals"]:
        say(f"goal {g['id']}: {g['text']} (due {g['due'] or '-'}, {g['track']})")
        for m in g["measures"]:
            say(f"  - [{m['status']}] {m['sentence']}")
    if v["initiatives"]:
        say("initiatives:")
        for i in v["initiatives"]:
            who = i["owner"]["name"] if i["owner"] else "-"
            say(f"  - {i['title']} ({i['state']}, due {i['due'] or '-'}, owner {who})")
    _render_stakeholders(v)
    for r in v["reviews"]:
        say(f"review {r['on']}: {r['notes']}")


def _render_stakeholders(v: dict[str, Any]) -> None:
    if v["stakeholders"]:
        table(
            "stakeholders",
            ["person", "role", "stance", "health", "last two-way", "cadence", "warm"],
            [
                (
                    s["person"]["name"],
                    s["role"],
                    s["stance"],
                    f"{s['health']:.0f} {s['band']}",
                    s["last_two_way"] or "never",
                    s["every_days"] or "-",
                    ", ".join(w["name"] for w in s["warm"]) or "nobody",
                )
                for s in v["stakeholders"]
            ],
        )
    for g in v["gaps"]:
        say(f"gap: {g['sentence']}")


@plan_app.command("show")
def cmd_plan_show(plan: PlanRef, as_of: AsOf = None, as_json: JsonOpt = False) -> None:
    """A plan as of a day: goals with their status sentences, initiatives, stakeholders."""
    open_workspace()
    from kith.plans.selectors import plan_view

    emit(plan_view(_system(), plan, as_of=as_of), as_json, _render_plan)


@plan_app.command("stakeholders")
def cmd_plan_stakeholders(
    plan: PlanRef,
    gaps: Annotated[bool, typer.Option("--gaps", help="Only the gaps.")] = False,
    as_of: AsOf = None,
    as_json: JsonOpt = False,
) -> None:
    """The stakeholder map with derived strength, contact against cadence, and gaps."""
    open_workspace()
    from kith.plans.selectors import plan_stakeholders

    def render(d: dict[str, Any]) -> None:
        if "stakeholders" in d:
            _render_stakeholders({"stakeholders": d["stakeholders"], "gaps": d["gaps"]})
        else:
            for g in d["gaps"]:
                say(f"gap: {g['sentence']}")
            if not d["gaps"]:
                say("no gaps")

    emit(plan_stakeholders(_system(), plan, gaps_only=gaps, as_of=as_of), as_json, render)


@plan_app.command("review")
def cmd_plan_review(
    plan: PlanRef,
    notes: Annotated[str, typer.Option("--notes", help="What was said.")] = "",
    decisions: Annotated[str, typer.Option("--decisions")] = "",
    on: Annotated[
        str | None, typer.Option("--on", help="The review's day (default today).")
    ] = None,
    attendee: Annotated[list[str] | None, typer.Option("--attendee")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a plan review; computed measures get a reading that day."""
    open_workspace()
    from kith.plans.services import add_review

    r = add_review(
        viewer=_system(),
        plan=plan,
        notes=notes,
        decisions=decisions,
        on=on,
        attendees=attendee or [],
    )
    from kith.plans.selectors import plan_view

    state = plan_view(_system(), plan, as_of=r.on)  # recomputed for that day, not a copy
    emit(
        {
            "id": r.id,
            "on": r.on.isoformat(),
            "health": state["health"],
            "summary": state["summary"],
        },
        as_json,
        lambda v: say(f"review {v['id']} on {v['on']}: {v['summary']}"),
    )


def cmd_plans(
    status: Annotated[str | None, typer.Option("--status", help="draft, active or closed.")] = None,
    at_risk: Annotated[
        bool, typer.Option("--at-risk", help="Only plans with a goal at risk.")
    ] = False,
    owner: Annotated[str | None, typer.Option("--owner", help="One of our people.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Plans with their goals on track, at risk and off track."""
    open_workspace()
    from kith.plans.selectors import plans_list

    emit(
        plans_list(_system(), status=status, at_risk=at_risk, owner=owner),
        as_json,
        lambda v: table(
            "plans",
            ["id", "name", "account", "status", "on", "at risk", "off"],
            [
                (
                    p["id"],
                    p["name"],
                    p["account"]["name"],
                    p["status"],
                    p["goals"]["on track"],
                    p["goals"]["at risk"],
                    p["goals"]["off track"],
                )
                for p in v
            ],
        ),
    )


@goal_app.command("add")
def cmd_goal_add(
    plan: PlanRef,
    text: Annotated[str, typer.Argument(metavar="TEXT")],
    due: Annotated[str | None, typer.Option("--due", help="Due day.")] = None,
    priority: Annotated[str, typer.Option("--priority", help="low, normal or high.")] = "normal",
    owner: Annotated[str | None, typer.Option("--owner", help="One of our people.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a goal to a plan."""
    open_workspace()
    from kith.plans.services import add_goal

    goal = add_goal(viewer=_system(), plan=plan, text=text, due=due, priority=priority, owner=owner)
    _created("goal", goal, as_json)


@goal_app.command("close")
def cmd_goal_close(
    goal: GoalRef,
    closure: Annotated[
        str, typer.Option("--closure", help="achieved, partially_achieved, missed, cancelled.")
    ],
    note: Annotated[str, typer.Option("--note", help="The retrospective.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Close a goal with a closure code and a note."""
    open_workspace()
    from kith.plans.services import close_goal

    _created("goal", close_goal(viewer=_system(), goal=goal, closure=closure, note=note), as_json)


@measure_app.command("add")
def cmd_measure_add(
    goal: GoalRef,
    target: Annotated[float, typer.Option("--target", help="The target value.")],
    by: Annotated[str, typer.Option("--by", help="The target day.")],
    metric: Annotated[
        str | None, typer.Option("--metric", help="A metric key (none: by hand).")
    ] = None,
    baseline: Annotated[str, typer.Option("--baseline", help="auto or a number.")] = "auto",
    direction: Annotated[
        str, typer.Option("--direction", help="increase, decrease, maintain.")
    ] = "increase",
    filter_: Annotated[
        str | None, typer.Option("--filter", help="The metric's parameters (JSON).")
    ] = None,
    window: Annotated[str | None, typer.Option("--window", help="e.g. 90d.")] = None,
    label: Annotated[str, typer.Option("--label")] = "",
    milestone: Annotated[
        list[str] | None,
        typer.Option("--milestone", help="DATE=VALUE on the glide path (repeatable)."),
    ] = None,
    view: Annotated[
        str | None,
        typer.Option("--view", help="Measure a saved view's records instead of the account."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Measure a goal: computed from a metric (for the plan's account or a saved view), or
    entered by hand."""
    open_workspace()
    from kith.plans.services import add_measure

    m = add_measure(
        viewer=_system(),
        goal=goal,
        metric=metric,
        target=target,
        by=by,
        baseline=None if metric is None and baseline == "auto" else baseline,
        direction=direction,
        params=filter_,
        window=window,
        label=label,
        milestones=milestone or [],
        view=view,
    )
    extra = {
        "baseline": m.baseline_value,
        "baseline_on": m.baseline_on.isoformat() if m.baseline_on else None,
    }
    emit(
        {"id": m.id, "name": m.label, **extra},
        as_json,
        lambda v: say(f"measure {v['id']}: {v['name']} (baseline {v['baseline']})"),
    )


@measure_app.command("record")
def cmd_measure_record(
    measure: Annotated[str, typer.Argument(metavar="MEASURE")],
    value: Annotated[float, typer.Argument(metavar="VALUE")],
    on: Annotated[str | None, typer.Option("--on", help="The day (default today).")] = None,
    note: Annotated[str, typer.Option("--note")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Enter a reading by hand."""
    open_workspace()
    from kith.plans.services import record_reading

    r = record_reading(viewer=_system(), measure_id=measure, value=value, on=on, note=note)
    emit(
        {"measure": measure, "on": r.on.isoformat(), "value": r.value},
        as_json,
        lambda v: say(f"{v['measure']} {v['on']}: {v['value']:g}"),
    )


@measure_app.command("readings")
def cmd_measure_readings(
    measure: Annotated[str, typer.Argument(metavar="MEASURE")],
    recompute: Annotated[bool, typer.Option("--recompute", help="Recompute each day too.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """A measure's readings over time."""
    open_workspace()
    from kith.plans.selectors import readings

    emit(
        readings(_system(), measure, recompute=recompute),
        as_json,
        lambda v: table(
            v["label"],
            ["on", "value", "source", "note"] + (["recomputed"] if recompute else []),
            [
                (r["on"], r["value"], r["source"], r["note"])
                + ((r.get("recomputed"),) if recompute else ())
                for r in v["readings"]
            ],
        ),
    )


@stakeholder_app.command("add")
def cmd_stakeholder_add(
    plan: PlanRef,
    person: Annotated[str, typer.Argument(metavar="PERSON")],
    role: Annotated[
        str, typer.Option("--role", help="A buying role (economic_buyer, champion ...).")
    ],
    stance: Annotated[
        str, typer.Option("--stance", help="supporter, neutral, detractor, unknown.")
    ] = "unknown",
    influence: Annotated[int, typer.Option("--influence", help="1..5.")] = 3,
    owner: Annotated[str | None, typer.Option("--owner", help="Our person for them.")] = None,
    topic: Annotated[list[str] | None, typer.Option("--topic", help="A topic to discuss.")] = None,
    every: Annotated[int | None, typer.Option("--every", help="Desired cadence in days.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a stakeholder to a plan."""
    open_workspace()
    from kith.plans.services import add_stakeholder

    s = add_stakeholder(
        viewer=_system(),
        plan=plan,
        person=person,
        role=role,
        stance=stance,
        influence=influence,
        owner=owner,
        topics=topic or [],
        every=every,
    )
    emit(
        {"id": s.id, "person": s.person_id, "role": s.role},
        as_json,
        lambda v: say(f"stakeholder {v['id']}: {v['role']}"),
    )


@initiative_app.command("add")
def cmd_initiative_add(
    goal: GoalRef,
    title: Annotated[str, typer.Argument(metavar="TITLE")],
    owner: Annotated[str | None, typer.Option("--owner", help="Our owner.")] = None,
    their_owner: Annotated[str | None, typer.Option("--their-owner", help="Their person.")] = None,
    due: Annotated[str | None, typer.Option("--due")] = None,
    state: Annotated[
        str, typer.Option("--state", help="planned, in_progress, done, cancelled.")
    ] = "planned",
    as_json: JsonOpt = False,
) -> None:
    """Add a key initiative to a goal."""
    open_workspace()
    from kith.plans.services import add_initiative

    rec = add_initiative(
        viewer=_system(),
        goal=goal,
        title=title,
        owner=owner,
        their_owner=their_owner,
        due=due,
        state=state,
    )
    _created("initiative", rec, as_json)


InitRef = Annotated[
    str, typer.Argument(metavar="INITIATIVE", help="The initiative: id or exact title.")
]
NoteOpt = Annotated[str, typer.Option("--note", help="The retrospective note.")]


def _moved(rec: Any, as_json: bool) -> None:
    f = rec.fields
    data = {
        "id": rec.id,
        "title": rec.name,
        "state": f.get("state", "planned"),
        "closure": f.get("closure"),
        "closure_note": f.get("closure_note"),
    }
    emit(
        data,
        as_json,
        lambda v: say(
            f"initiative {v['id']}: {v['title']} is {v['state'].replace('_', ' ')}"
            + (f" ({v['closure'].replace('_', ' ')})" if v["closure"] else "")
        ),
    )


def _move(initiative: str, state: str, closure: str | None, note: str, as_json: bool) -> None:
    open_workspace()
    from kith.plans.services import move_initiative

    rec = move_initiative(
        viewer=_system(), initiative=initiative, state=state, closure=closure, note=note
    )
    _moved(rec, as_json)


@initiative_app.command("move")
def cmd_initiative_move(
    initiative: InitRef,
    state: Annotated[
        str, typer.Argument(metavar="STATE", help="planned, in_progress, done, cancelled.")
    ],
    closure: Annotated[
        str | None,
        typer.Option("--closure", help="done: achieved, partially_achieved or missed."),
    ] = None,
    note: NoteOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Move a key initiative to another state (the board's columns)."""
    _move(initiative, state, closure, note, as_json)


@initiative_app.command("start")
def cmd_initiative_start(initiative: InitRef, as_json: JsonOpt = False) -> None:
    """Mark a key initiative in progress."""
    _move(initiative, "in_progress", None, "", as_json)


@initiative_app.command("done")
def cmd_initiative_done(
    initiative: InitRef,
    closure: Annotated[
        str, typer.Option("--closure", help="achieved, partially_achieved or missed.")
    ] = "achieved",
    note: NoteOpt = "",
    as_json: JsonOpt = False,
) -> None:
    """Close a key initiative as done, with a closure code and a note."""
    _move(initiative, "done", closure, note, as_json)


@initiative_app.command("cancel")
def cmd_initiative_cancel(
    initiative: InitRef, note: NoteOpt = "", as_json: JsonOpt = False
) -> None:
    """Close a key initiative as cancelled, with a note."""
    _move(initiative, "cancelled", "cancelled", note, as_json)


@initiative_app.command("reopen")
def cmd_initiative_reopen(initiative: InitRef, as_json: JsonOpt = False) -> None:
    """Reopen a closed key initiative (back to planned)."""
    _move(initiative, "planned", None, "", as_json)


def render_next(v: dict[str, Any]) -> None:
    say(f"Suggested conversations as of {v['as_of']} (advice from the plans, with evidence):")
    if not v["people"]:
        say("  none")
    for p in v["people"]:
        say(f"{p['member']['name']}:")
        for c in p["conversations"]:
            say(f"  - talk to {c['person']['name']} ({c['account']['name']}): {c['why']}")
            if c["topics"]:
                say(f"    topics: {'; '.join(c['topics'])}")
            intro = c["introduction"]
            if intro and intro.get("via"):
                say(f"    introduction: {intro['via']}")
            elif intro:
                say(f"    introduction: not searched here; {intro['find']}")
            say(f"    key: {c['key']}")


def cmd_next(
    member: Annotated[str | None, typer.Option("--member", help="One of our people.")] = None,
    as_of: AsOf = None,
    task: Annotated[
        list[str] | None,
        typer.Option("--task", help="Make a task of the suggestion with this key."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Whom each of our people should talk to, about what, and why (suggestions)."""
    open_workspace()
    from kith.plans.services import suggestion_to_task
    from kith.plans.suggestions import next_conversations

    if task:
        made = [
            suggestion_to_task(viewer=_system(), key=k, member=member, as_of=as_of) for k in task
        ]
        data = [{"id": t.id, "title": t.title, "dedupe_key": t.dedupe_key} for t in made]

        def render(v: list[dict[str, str]]) -> None:
            for t in v:
                say(f"task {t['id']}: {t['title']}")

        emit(data, as_json, render)
        return
    emit(next_conversations(_system(), member=member, as_of=as_of), as_json, render_next)


template_app = typer.Typer(help="Plan templates.", no_args_is_help=True)


@template_app.command("list")
def cmd_template_list(as_json: JsonOpt = False) -> None:
    """The plan templates: built-in and saved."""
    open_workspace()
    from kith.plans.templates import list_templates

    emit(
        list_templates(_system()),
        as_json,
        lambda v: table(
            "plan templates",
            ["key", "name", "goals", "measures", "initiatives", "review every", "built-in"],
            [
                (
                    t["key"],
                    t["name"],
                    t["goals"],
                    t["measures"],
                    t["initiatives"],
                    t["review_every"] or "-",
                    "yes" if t["builtin"] else "",
                )
                for t in v
            ],
        ),
    )


@template_app.command("show")
def cmd_template_show(
    key: Annotated[str, typer.Argument(metavar="KEY")], as_json: JsonOpt = False
) -> None:
    """A template's goals, measures and initiatives (days from the plan's start)."""
    open_workspace()
    import json

    from kith.plans.templates import get_template

    body = get_template(key)
    emit(body, as_json, lambda v: say(json.dumps(v, indent=2)))


@template_app.command("save")
def cmd_template_save(
    key: Annotated[str, typer.Argument(metavar="KEY")],
    file: Annotated[str, typer.Argument(metavar="FILE", help="The template as JSON.")],
    as_json: JsonOpt = False,
) -> None:
    """Save a template from a JSON file (see kith plan template show expand)."""
    open_workspace()
    from pathlib import Path

    from kith.core.errors import ValidationError
    from kith.plans.templates import save_template

    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"file: cannot read {file!r} ({exc})", field="file") from None
    t = save_template(viewer=_system(), key=key, body=text)
    emit(
        {"key": t.key, "name": t.body.get("name", "")},
        as_json,
        lambda v: say(f"template {v['key']}: {v['name']}"),
    )


def register(app: typer.Typer) -> None:
    plan_app.add_typer(template_app, name="template")
    app.add_typer(plan_app, name="plan")
    app.add_typer(goal_app, name="goal")
    app.add_typer(measure_app, name="measure")
    app.add_typer(stakeholder_app, name="stakeholder")
    app.add_typer(initiative_app, name="initiative")
    app.command("plans")(cmd_plans)
    app.command("next")(cmd_next)
