"""CLI: kith brief REF [--since 7d|DATE|last-review] [--as-of D] [--for-meeting ID]
[--format text|markdown|html|pdf|json] [-o FILE]; kith changes REF [--since] [--as-of]."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say

SinceOpt = Annotated[
    str | None,
    typer.Option("--since", help="7d, 2w, a date (YYYY-MM-DD), a time, or last-review."),
]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="As of this day (default today).")]
UserOpt = Annotated[
    str | None, typer.Option("--user", help="Read as this user may see it (default: everything).")
]


def _viewer(user: str | None) -> Any:
    from kith.accounts.selectors import get_user, viewer_of
    from kith.core.viewer import SYSTEM

    return SYSTEM if user is None else viewer_of(get_user(user, field="user"))


def cmd_brief(
    ref: Annotated[
        str | None, typer.Argument(help="Organisation or person: id, email or exact name.")
    ] = None,
    since: SinceOpt = None,
    as_of: AsOfOpt = None,
    for_meeting: Annotated[
        str | None,
        typer.Option("--for-meeting", help="A planned meeting's interaction id: prep for it."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="text, markdown, html, pdf or json.")
    ] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The brief of an account or person: who's who, health now and since, what changed,
    open items, risks, the plan, and suggested next steps (labelled). Every line names
    its evidence."""
    open_workspace()
    from kith.briefs.render import check_format, render
    from kith.briefs.selectors import brief
    from kith.core.errors import ValidationError

    fmt = "json" if as_json else check_format(fmt)
    data = brief(_viewer(user), ref, since=since, as_of=as_of, for_meeting=for_meeting)
    body = render(data, fmt)
    if output is not None:
        if isinstance(body, str):
            output.write_text(body, encoding="utf-8")
        else:
            output.write_bytes(body)
        say(f"wrote {output} ({fmt})")
        return
    if isinstance(body, bytes):
        if sys.stdout.isatty():
            raise ValidationError(
                "--format: pdf goes to a file (-o FILE) or a pipe", field="format"
            )
        sys.stdout.flush()
        sys.stdout.buffer.write(body)
        return
    sys.stdout.write(body)


def _render_changes(v: dict[str, Any]) -> None:
    say(f"What changed at {v['record']['name']} from {v['since']} to {v['until']}")
    if not v["items"]:
        say("  nothing")
    for i in v["items"]:
        ev = f" [{', '.join(i['evidence'][:10])}]" if i["evidence"] else ""
        say(f"  {i['at'][:10]}  {i['kind']}: {i['text']}{ev}")


def cmd_changes(
    ref: Annotated[str, typer.Argument(help="Organisation or person: id, email or exact name.")],
    since: SinceOpt = None,
    as_of: AsOfOpt = None,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Only these sources (repeatable).")
    ] = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What changed since a day: typed items, each with its evidence ids."""
    open_workspace()
    from kith.briefs.selectors import changes_since

    data = changes_since(_viewer(user), ref, since, as_of, kinds=kind)
    emit(data, as_json, _render_changes)


def _render_digests(v: list[dict[str, Any]]) -> None:
    from kith.briefs.digest_render import as_text

    if not v:
        say("nothing to tell: no digest")
    for d in v:
        sent = f" (sent: digest {d['sent']})" if d.get("sent") else ""
        say(f"{d['user']}{sent}")
        say(as_text(d).rstrip())


def cmd_digest(
    user: Annotated[str | None, typer.Option("--user", help="One user's digest (email).")] = None,
    team: Annotated[
        str | None, typer.Option("--team", help="The digest of each user of a team.")
    ] = None,
    since: Annotated[
        str, typer.Option("--since", help="last (the watermark of the last digest) or 7d.")
    ] = "last",
    send: Annotated[
        bool, typer.Option("--send", help="Send it (in-app, email by the worker) and move on.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Digests: my accounts that changed most, past cadence, overdue tasks, meetings ahead
    with their briefs, inbound from people at risk. Without --send, a preview (no write)."""
    open_workspace()
    from kith.accounts.selectors import get_user
    from kith.briefs.digest import digest, team_users
    from kith.briefs.models import Subscription
    from kith.briefs.services import send_digest, window_of
    from kith.core import clock
    from kith.core.errors import ValidationError

    if (user is None) == (team is None):
        raise ValidationError("user: give --user EMAIL or --team T (one of them)", field="user")
    users = [get_user(user, field="user")] if user else team_users(str(team))
    out = []
    now = clock.now()
    for u in users:
        if send:
            d = send_digest(user=u, since=since, until=now)
            if d is not None:
                out.append({**d.body, "sent": d.pk})
            continue
        sub = Subscription.objects.filter(user=u).first()
        got = digest(u, window_of(sub, since, now), now)
        if got["items"]:
            out.append(got)
    emit(out, as_json, _render_digests)


def cmd_subscribe(
    user: Annotated[str, typer.Argument(help="The user (email).")],
    rrule: Annotated[
        str, typer.Option("--rrule", help="When, in the user's zone (RFC 5545).")
    ] = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=7",
    zone: Annotated[str, typer.Option("--zone", help="The user's time zone.")] = "UTC",
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="in_app, email, atom (repeatable).")
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Stop this user's digests.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Set a user's digest subscription: schedule, zone, channels."""
    open_workspace()
    from kith.briefs.services import subscribe, view

    sub = subscribe(user=user, rrule=rrule, zone=zone, channels=channel, active=not off)
    emit(
        view(sub),
        as_json,
        lambda v: say(
            f"{v['user']}: {'on' if v['active'] else 'off'}, {v['rrule']} ({v['zone']}), "
            f"{', '.join(v['channels'])}; next {v['next_at']}"
        ),
    )


def _render_surprises(v: dict[str, Any]) -> None:
    say(f"Surprises in {v['metric']} ({v['scope']}, last {v['since_days']} days to {v['as_of']})")
    if not v["items"]:
        say("  none")
    for i in v["items"]:
        sign = "+" if i["positive"] else "-"
        say(f"  {sign} {i['text']} [z {i['z']:g}; {', '.join(i['evidence'][:6])}]")
        say(f"    key: {i['key']}")


def cmd_surprises(
    scope: Annotated[
        str, typer.Option("--scope", help="all, team, or an organisation (id or name).")
    ] = "all",
    since: Annotated[str, typer.Option("--since", help="How far back: 14d, 4w.")] = "14d",
    as_of: AsOfOpt = None,
    metric: Annotated[
        str, typer.Option("--metric", help="A catalogue metric of organisations.")
    ] = "interactions.two_way",
    period: Annotated[
        int | None, typer.Option("--period", help="A seasonal cycle, in weeks (e.g. 4).")
    ] = None,
    task: Annotated[
        str | None, typer.Option("--task", help="Make a task of the surprise with this key.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Surprises: accounts whose weekly series jumped, fell or shifted (events, not people),
    each with its evidence; --task KEY makes one a task."""
    open_workspace()
    from kith.briefs.selectors import parse_as_of
    from kith.briefs.services import surprise_to_task
    from kith.briefs.surprises import surprises
    from kith.core.errors import ValidationError
    from kith.core.viewer import SYSTEM

    text = since.strip().lower()
    if not (text[:-1].isdigit() and text[-1:] in ("d", "w")):
        raise ValidationError(
            f"since: {since!r} is not a number of days or weeks (14d, 4w)", field="since"
        )
    days = int(text[:-1]) * (7 if text.endswith("w") else 1)
    day = parse_as_of(as_of)
    if task:
        t = surprise_to_task(viewer=SYSTEM, key=task, as_of=day, scope=scope, since_days=days)
        emit(
            {"task": t.id, "title": t.title},
            as_json,
            lambda v: say(f"task {v['task']}: {v['title']}"),
        )
        return
    data = surprises(SYSTEM, scope=scope, since_days=days, as_of=day, metric=metric, period=period)
    emit(data, as_json, _render_surprises)


def _render_coach(v: dict[str, Any]) -> None:
    say(f"Coaching for {v['person']['name']} as of {v['as_of']} ({v['compared_with']})")
    p = v["portfolio"]
    now = ", ".join(f"{n} {b}" for b, n in p["bands_now"].items())
    then = ", ".join(f"{n} {b}" for b, n in p["bands_90_days_ago"].items())
    say(f"  portfolio: {p['ties']} ties; now {now}; 90 days ago {then}")
    for s in p["strengthened"]:
        say(f"  stronger: {s['person']['name']} (+{s['change']:g})")
    for s in v["slipping"]:
        say(f"  slipping: {s['person']['name']} ({s['change']:g}): {'; '.join(s['reasons'][:2])}")
    for s in v["single_threaded"]:
        say(f"  single-threaded: {s['org']['name']}")
    for h in v["habits"]:
        say(f"  habit: {h['habit']}: {h['said']}")
    for t in v["try"]:
        say(f"  suggestion: {t['text']} ({t['why']}) [{', '.join(t['evidence'][:5])}]")
    for seen in v["viewed_by_others"]:
        say(f"  viewed by {seen['by']} at {seen['at']}")


def cmd_coach(
    user: Annotated[str, typer.Option("--user", help="Whose coaching (their email).")],
    as_of: AsOfOpt = None,
    as_user: Annotated[
        str | None, typer.Option("--as", help="Look as this user (default: the operator).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """One person's coaching, against their own past only (nobody is ranked)."""
    open_workspace()
    from kith.briefs.selectors import parse_as_of
    from kith.briefs.services import open_coaching

    data = open_coaching(viewer=_viewer(as_user), user=user, as_of=parse_as_of(as_of))
    emit(data, as_json, _render_coach)


def cmd_coach_setting(
    mode: Annotated[str | None, typer.Option("--mode", help="on, self or off.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="A team whose leads to set.")] = None,
    lead: Annotated[
        list[str] | None, typer.Option("--lead", help="A lead's email (repeatable).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Admins: coaching on, self-only or off; who leads a team."""
    open_workspace()
    from kith.briefs.services import set_coaching
    from kith.core.viewer import SYSTEM

    got = set_coaching(viewer=SYSTEM, mode=mode, team=team, leads=lead)
    emit(
        {"mode": got.mode, "leads": got.leads},
        as_json,
        lambda v: say(f"coaching {v['mode']}; leads {v['leads']}"),
    )


def register(app: typer.Typer) -> None:
    app.command("brief")(cmd_brief)
    app.command("changes")(cmd_changes)
    app.command("digest")(cmd_digest)
    app.command("digest-subscribe")(cmd_subscribe)
    app.command("surprises")(cmd_surprises)
    app.command("coach")(cmd_coach)
    app.command("coach-setting")(cmd_coach_setting)
