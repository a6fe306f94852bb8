"""CLI: ``kith task add|show|done|reopen|cancel|snooze|edit``, ``kith tasks``,
``kith cadence set|list|pause|resume|remove|suggest|scan|task`` and ``kith due``.

The CLI acts for the whole workspace (the system viewer); ``--mine`` is the user named by
``KITH_USER`` (the acting user).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say, table

task_app = typer.Typer(
    help="Tasks: ours, and the commitments the other side made.", no_args_is_help=True
)
cadence_app = typer.Typer(help="Keep-in-touch cadences.", no_args_is_help=True)

TaskId = Annotated[str, typer.Argument(help="The task's id (tsk_...).")]
Member = Annotated[str | None, typer.Option("--member", help="One of our people (email or name).")]


def _line(t: dict[str, Any], *, status: bool = True) -> str:
    due = f" due {t['due']}" + (f" {t['due_time']}" if t["due_time"] else "") if t["due"] else ""
    about = ", ".join(a["name"] for a in t["about"])
    party = " (theirs)" if t["party"] == "theirs" else ""
    head = f"{t['status']} " if status else ""
    return f"{head}{t['id']} {t['title']}{party}{due}" + (f" about {about}" if about else "")


def _say_task(verb: str) -> Any:
    # a transition's verb is the new status: saying both printed "done done ..."
    transition = verb in ("done", "reopened", "cancelled")
    return lambda t: say(f"{verb} {_line(t, status=not transition)}")


def _view(task_id: str) -> dict[str, Any]:
    from kith.core.viewer import SYSTEM
    from kith.tasks.selectors import task_detail

    return task_detail(SYSTEM, task_id)


@task_app.command("add")
def task_add(
    title: Annotated[str, typer.Argument(help="What to do.")],
    due: Annotated[
        str | None, typer.Option("--due", help="YYYY-MM-DD or today (with THH:MM for a time).")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="A user's email.")] = None,
    about: Annotated[
        list[str] | None, typer.Option("--about", help="A record it is about (repeatable).")
    ] = None,
    priority: Annotated[
        str, typer.Option("--priority", help="low, normal, high or urgent.")
    ] = "normal",
    repeat: Annotated[
        str | None, typer.Option("--repeat", help="An RRULE, e.g. FREQ=WEEKLY;BYDAY=MO.")
    ] = None,
    theirs: Annotated[
        bool, typer.Option("--theirs", help="A commitment the other side made.")
    ] = False,
    notes: Annotated[str, typer.Option("--notes")] = "",
    done_when: Annotated[
        str | None,
        typer.Option(
            "--done-when",
            help="Complete it when a two-way interaction of this kind (call, meeting, any) "
            "with a record it is about is logged.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a task."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.tasks.selectors import acting_user
    from kith.tasks.services import create_task

    task = create_task(
        viewer=SYSTEM,
        title=title,
        due=due,
        owner=owner if owner else acting_user(),
        about=about or [],
        priority=priority,
        repeat=repeat,
        party="theirs" if theirs else "ours",
        notes=notes,
        complete_on=done_when,
    )
    emit(_view(task.id), as_json, _say_task("added"))


@task_app.command("show")
def task_show(task_id: TaskId, as_json: JsonOpt = False) -> None:
    """One task, with its history."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.tasks.selectors import task_history

    view = {**_view(task_id), "history": task_history(SYSTEM, task_id)}

    def render(v: dict[str, Any]) -> None:
        say(_line(v))
        if v["notes"]:
            say(f"  {v['notes']}")
        for h in v["history"]:
            say(
                f"  {h['at'][:16].replace('T', ' ')} {h['action']} by {h['actor']}"
                + (f": {h['note']}" if h["note"] else "")
            )

    emit(view, as_json, render)


def _transition(name: str, verb: str) -> Any:
    def command(task_id: TaskId, as_json: JsonOpt = False) -> None:
        open_workspace()
        from kith.core.viewer import SYSTEM
        from kith.tasks import services

        getattr(services, f"{name}_task")(viewer=SYSTEM, task_id=task_id)
        emit(_view(task_id), as_json, _say_task(verb))

    command.__doc__ = f"Mark a task {verb}."
    return command


task_app.command("done")(_transition("complete", "done"))
task_app.command("reopen")(_transition("reopen", "reopened"))
task_app.command("cancel")(_transition("cancel", "cancelled"))


@task_app.command("snooze")
def task_snooze(
    task_id: TaskId,
    until: Annotated[str, typer.Option("--until", help="YYYY-MM-DD: hidden until that day.")],
    as_json: JsonOpt = False,
) -> None:
    """Hide an open task from the lists until a day."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.tasks.services import snooze_task

    snooze_task(viewer=SYSTEM, task_id=task_id, until=until)
    emit(_view(task_id), as_json, _say_task(f"snoozed until {until}:"))


@task_app.command("edit")
def task_edit(
    task_id: TaskId,
    set_: Annotated[
        list[str],
        typer.Option(
            "--set",
            help="field=value: title, notes, due, due_time, owner, priority, "
            "party, repeat (repeatable).",
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Change a task's fields."""
    open_workspace()
    from kith.core.parse import parse_pairs
    from kith.core.viewer import SYSTEM
    from kith.tasks.services import edit_task

    edit_task(viewer=SYSTEM, task_id=task_id, changes=parse_pairs(set_, option="--set"))
    emit(_view(task_id), as_json, _say_task("changed"))


def cmd_tasks(
    mine: Annotated[
        bool, typer.Option("--mine", help="Only the acting user's (KITH_USER).")
    ] = False,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this user's.")] = None,
    about: Annotated[str | None, typer.Option("--about", help="Only those about a record.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue ones.")] = False,
    due_before: Annotated[
        str | None, typer.Option("--due-before", help="Due before a day.")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Today is this day.")] = None,
    status: Annotated[
        str, typer.Option("--status", help="open, snoozed, done, cancelled or all.")
    ] = "open",
    theirs: Annotated[bool, typer.Option("--theirs", help="Only the other side's.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Tasks, soonest due first."""
    open_workspace()
    from kith.accounts.selectors import get_user
    from kith.core.errors import ValidationError
    from kith.core.parse import parse_date
    from kith.core.viewer import SYSTEM
    from kith.records.selectors import resolve
    from kith.tasks.selectors import acting_user, tasks_for

    if mine and owner:
        raise ValidationError("--mine: give --mine or --owner, not both", field="mine")
    who = None
    if mine:
        me = acting_user()
        if me is None:
            from kith.core.context import current_actor

            raise ValidationError(
                f"--mine: {current_actor()!r} is not a Kith user (set KITH_USER to your email)",
                field="mine",
            )
        who = me.pk
    elif owner:
        who = get_user(owner, field="owner").pk
    record = resolve(SYSTEM, about, field="about") if about else None
    items, _ = tasks_for(
        SYSTEM,
        owner=who,
        about=record,
        overdue=overdue,
        due_before=parse_date(due_before, field="due_before"),
        status=status,
        as_of=parse_date(as_of, field="as_of"),
        party="theirs" if theirs else None,
        limit=limit,
    )

    def render(rows: list[dict[str, Any]]) -> None:
        if not rows:
            say("no tasks")
            return
        table(
            None,
            ["id", "due", "title", "about", "owner", "priority", "status"],
            [
                (
                    t["id"],
                    (t["due"] or "") + (" overdue" if t["overdue"] else ""),
                    t["title"] + (" (theirs)" if t["party"] == "theirs" else ""),
                    ", ".join(a["name"] for a in t["about"]),
                    t["owner"] or "",
                    t["priority"],
                    t["status"] + (f" until {t['snoozed_until']}" if t["snoozed_until"] else ""),
                )
                for t in rows
            ],
        )

    emit(items, as_json, render)


# -- keep in touch ----------------------------------------------------------------------


def _cadence_line(c: dict[str, Any]) -> str:
    who = f" for {c['member']['name']}" if c["member"] else ""
    return (
        f"{c['record']['name']}{who}: every {c['every']} days (at most {c['max']}); {c['reason']}"
    )


@cadence_app.command("set")
def cadence_set(
    ref: Annotated[str, typer.Argument(help="A person or organisation.")],
    every: Annotated[int, typer.Option("--every", help="Ideal days between contacts.")],
    max_: Annotated[
        int | None, typer.Option("--max", help="Most days before it is overdue (1.5x).")
    ] = None,
    member: Member = None,
    counts: Annotated[
        str | None,
        typer.Option("--counts", help="team (anyone on our team) or member (that member only)."),
    ] = None,
    contact: Annotated[
        str | None, typer.Option("--contact", help="two_way (default) or any contact.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Keep in touch with someone every N days, counted from the last two-way contact."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.tasks import cadence_selectors as sel
    from kith.tasks.cadence_services import set_cadence
    from kith.tasks.selectors import acting_user

    cadence = set_cadence(
        viewer=SYSTEM,
        ref=ref,
        every=every,
        max_days=max_,
        member=member,
        counts=counts,
        contact=contact,
        owner=acting_user(),
    )
    view = next(
        v for v in sel.list_cadences(SYSTEM, record=cadence.record) if v["id"] == cadence.id
    )
    emit(view, as_json, lambda c: say(f"{c['status']}: {_cadence_line(c)}"))


@cadence_app.command("list")
def cadence_list(
    as_of: Annotated[str | None, typer.Option("--as-of", help="As of this day.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every cadence and where it stands."""
    open_workspace()
    from kith.core.parse import parse_date
    from kith.core.viewer import SYSTEM
    from kith.tasks.cadence_selectors import list_cadences

    rows = list_cadences(SYSTEM, as_of=parse_date(as_of, field="as_of"))
    emit(rows, as_json, _render_cadences)


def _render_cadences(rows: list[dict[str, Any]]) -> None:
    if not rows:
        say("no cadences")
        return
    table(
        None,
        ["status", "who", "member", "every", "max", "last contact", "due", "reason"],
        [
            (
                c["status"],
                c["record"]["name"],
                c["member"]["name"] if c["member"] else "team",
                c["every"],
                c["max"],
                c["last_contact"] or "never",
                c["due_on"],
                c["reason"],
            )
            for c in rows
        ],
    )


@cadence_app.command("pause")
def cadence_pause(
    ref: Annotated[str, typer.Argument(help="The record (or cadence id).")],
    until: Annotated[str, typer.Option("--until", help="Paused until this day.")],
    member: Member = None,
    as_json: JsonOpt = False,
) -> None:
    """Pause a cadence until a day."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.tasks.cadence_services import pause_cadence

    c = pause_cadence(viewer=SYSTEM, ref=ref, until=until, member=member)
    emit(
        {"id": c.id, "paused_until": until},
        as_json,
        lambda v: say(f"paused {v['id']} until {until}"),
    )


@cadence_app.command("resume")
def cadence_resume(
    ref: Annotated[str, typer.Argument(help="The record (or cadence id).")],
    member: Member = None,
    as_json: JsonOpt = False,
) -> None:
    """Resume a paused cadence now."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.tasks.cadence_services import pause_cadence

    c = pause_cadence(viewer=SYSTEM, ref=ref, until=None, member=member)
    emit({"id": c.id, "paused_until": None}, as_json, lambda v: say(f"resumed {v['id']}"))


@cadence_app.command("remove")
def cadence_remove(
    ref: Annotated[str, typer.Argument(help="The record (or cadence id).")],
    member: Member = None,
    as_json: JsonOpt = False,
) -> None:
    """Stop keeping in touch (its open task is cancelled)."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.tasks.cadence_services import remove_cadence

    cid = remove_cadence(viewer=SYSTEM, ref=ref, member=member)
    emit({"id": cid, "removed": True}, as_json, lambda v: say(f"removed {v['id']}"))


@cadence_app.command("suggest")
def cadence_suggest(
    as_of: Annotated[str | None, typer.Option("--as-of", help="As of this day.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Suggest cadences from each relationship's usual rhythm (with the evidence)."""
    open_workspace()
    from kith.core.parse import parse_date
    from kith.core.viewer import SYSTEM
    from kith.tasks.cadence_selectors import suggestions

    rows = suggestions(SYSTEM, as_of=parse_date(as_of, field="as_of"), limit=limit)

    def render(rs: list[dict[str, Any]]) -> None:
        if not rs:
            say("no suggestions (people need 3+ two-way contacts and no cadence yet)")
            return
        say("suggestions (from the usual rhythm of each relationship):")
        for s in rs:
            say(
                f"  {s['record']['name']}: every {s['every']} days (max {s['max']}) - {s['why']}"
                f"  [kith cadence set {s['record']['id']} --every {s['every']} --max {s['max']}]"
            )

    emit(rows, as_json, render)


@cadence_app.command("scan")
def cadence_scan(
    as_of: Annotated[str | None, typer.Option("--as-of", help="As of this day.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Open or update a task for each overdue cadence (the worker runs this daily)."""
    open_workspace()
    from kith.core.parse import parse_date
    from kith.tasks.cadence_services import scan_cadences

    counts = scan_cadences(parse_date(as_of, field="as_of"))
    emit(
        counts,
        as_json,
        lambda c: say(
            f"{c['cadences']} cadences, {c['overdue']} overdue: {c['opened']} tasks opened, "
            f"{c['updated']} updated, {c['closed']} closed"
        ),
    )


@cadence_app.command("task")
def cadence_task(
    ref: Annotated[str, typer.Argument(help="The record (or cadence id).")],
    member: Member = None,
    as_json: JsonOpt = False,
) -> None:
    """Open (or update) the task of one cadence now."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.tasks.cadence_services import open_cadence_task

    task = open_cadence_task(viewer=SYSTEM, ref=ref, member=member)
    emit(_view(task.id), as_json, _say_task("opened"))


def cmd_due(
    member: Member = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="As of this day.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Who is due or overdue for contact, with the last contact and why."""
    open_workspace()
    from kith.core.parse import parse_date
    from kith.core.viewer import SYSTEM
    from kith.tasks import cadence_selectors as sel

    rows = sel.due(
        SYSTEM, as_of=parse_date(as_of, field="as_of"), member=sel.check_member(SYSTEM, member)
    )

    def render(rs: list[dict[str, Any]]) -> None:
        if not rs:
            say("nobody is due")
            return
        _render_cadences(rs)

    emit(rows, as_json, render)


def register(app: typer.Typer) -> None:
    app.add_typer(task_app, name="task")
    app.add_typer(cadence_app, name="cadence")
    app.command("tasks")(cmd_tasks)
    app.command("due")(cmd_due)
