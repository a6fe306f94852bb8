"""CLI: kith survey add/send/show/import, kith surveys, kith voice, kith sentiment rescore/show."""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, console, emit, open_workspace, say, table

survey_app = typer.Typer(help="Surveys: NPS, CSAT, CES and custom.", no_args_is_help=True)
sentiment_app = typer.Typer(help="Sentiment of interactions' text.", no_args_is_help=True)


def _system() -> Any:
    from kith.core.viewer import SYSTEM

    return SYSTEM


def _json_opt(text: str | None, field: str) -> Any:
    if text is None:
        return None
    from kith.core.errors import ValidationError

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{field}: not JSON ({exc.msg})", field=field) from None


def _bar(enabled: bool, what: str, total: int | None) -> tuple[AbstractContextManager[Any], Any]:
    """A progress bar on stderr when it is wanted (a terminal, no --json)."""
    if not enabled:
        return nullcontext(), None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(),
                   console=console(stderr=True), transient=True)  # fmt: skip
    task = bar.add_task(what, total=total)

    def tick(n: int) -> None:
        bar.advance(task, n)

    return bar, tick


def _interactive(as_json: bool) -> bool:
    return not as_json and sys.stdout.isatty()


@survey_app.command("add")
def cmd_add(
    kind: Annotated[str, typer.Argument(metavar="KIND", help="nps, csat, ces or custom.")],
    question: Annotated[str, typer.Option("--question", help="What is asked.")],
    name: Annotated[str | None, typer.Option("--name", help="A unique name.")] = None,
    scale: Annotated[str | None, typer.Option("--scale", help="LOW-HIGH (custom).")] = None,
    followup: Annotated[str, typer.Option("--followup", help="The follow-up question.")] = "",
    throttle: Annotated[
        int, typer.Option("--throttle", help="Minimum days between asks per person.")
    ] = 90,
    per_account_quarter: Annotated[
        int | None, typer.Option("--per-account-quarter", help="At most N asks per account.")
    ] = None,
    view: Annotated[str | None, typer.Option("--view", help="Audience: a saved view.")] = None,
    condition: Annotated[
        str | None, typer.Option("--condition", help="Audience: a JSON condition.")
    ] = None,
    trigger: Annotated[
        str | None,
        typer.Option("--trigger", help='JSON: {"on":"schedule","rrule":...} or {"on":"rule",...}'),
    ] = None,
    remind: Annotated[
        int, typer.Option("--remind", help="Days to the one reminder (0: none).")
    ] = 3,
    expire: Annotated[int, typer.Option("--expire", help="Days a link works.")] = 14,
    as_json: JsonOpt = False,
) -> None:
    """Define a survey."""
    open_workspace()
    from kith.surveys import selectors, services

    audience: dict[str, Any] = {}
    if view:
        audience = {"view": view}
    if condition:
        audience = {"condition": _json_opt(condition, "condition")}
    s = services.add_survey(
        kind=kind, question=question, name=name, scale=scale, followup=followup,
        throttle_days=throttle, per_account_quarter=per_account_quarter, audience=audience,
        trigger=_json_opt(trigger, "trigger"), remind_after_days=remind or None,
        expire_after_days=expire,
    )  # fmt: skip
    data = selectors.survey_view(s, {})
    emit(data, as_json, lambda v: say(f"survey {v['id']}: {v['name']} ({v['kind']})"))


@survey_app.command("send")
def cmd_send(
    survey: Annotated[str, typer.Argument(metavar="SURVEY", help="Id or name.")],
    to: Annotated[
        list[str] | None, typer.Option("--to", help="A person, organisation or saved view.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list who would be asked.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Ask people (or the survey's audience); the worker sends the emails."""
    open_workspace()
    from kith.surveys import services

    out = services.send_survey(viewer=_system(), survey=survey, to=to or [], dry_run=dry_run)

    def render(v: dict[str, Any]) -> None:
        verb = "would ask" if v["dry_run"] else "asking"
        say(f"{v['name']}: {verb} {len(v['asked'])}, {len(v['suppressed'])} suppressed")
        rows = [(p["name"], p["email"], p["account_name"] or "", "ask") for p in v["asked"]]
        rows += [(p["name"], p["email"], p["account_name"] or "", p["reason"])
                 for p in v["suppressed"]]  # fmt: skip
        if rows:
            table(None, ["person", "email", "account", "status"], rows)

    emit(out, as_json, render)


@survey_app.command("link")
def cmd_link(
    survey: Annotated[str, typer.Argument(metavar="SURVEY", help="Id or name.")],
    to: Annotated[str, typer.Option("--to", help="The person who will answer.")],
    as_json: JsonOpt = False,
) -> None:
    """A single-use answer link for one person, to give by hand (shown this once)."""
    open_workspace()
    from kith.notifications.jobs import base_url
    from kith.surveys import services

    inv, token = services.link_invite(viewer=_system(), survey=survey, person=to)
    data = {"invite": inv.id, "url": f"{base_url()}/s/{token}",
            "expires_at": inv.expires_at.isoformat() if inv.expires_at else None}  # fmt: skip
    emit(data, as_json, lambda v: say(f"{v['url']}  (works once, until {v['expires_at'][:10]})"))


@survey_app.command("show")
def cmd_show(
    survey: Annotated[str, typer.Argument(metavar="SURVEY", help="Id or name.")],
    as_json: JsonOpt = False,
) -> None:
    """A survey: invites, suppressions and response rate."""
    open_workspace()
    from kith.surveys import selectors

    data = selectors.survey_detail(_system(), survey)

    def render(v: dict[str, Any]) -> None:
        rate = v["response_rate"]
        say(f"{v['name']} ({v['kind']}): {v['question']}")
        say(f"  answered {rate['answered']} of {rate['asked']} asked"
            + (f" ({rate['value']:.0f}%)" if rate["value"] is not None else ""))  # fmt: skip
        for reason, n in v["suppressed_by_reason"].items():
            say(f"  suppressed {n}: {reason}")
        table(None, ["person", "status", "reason", "sent", "answered"],
              [(i["name"], i["status"], i["reason"], (i["sent_at"] or "")[:10],
                (i["responded_at"] or "")[:10]) for i in v["latest"]])  # fmt: skip

    emit(data, as_json, render)


@survey_app.command("import")
def cmd_import(
    file: Annotated[str, typer.Argument(metavar="FILE", help="A CSV or XLSX export.")],
    survey: Annotated[str | None, typer.Option("--survey", help="The survey answered.")] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="google-forms or generic (found if not given).")
    ] = None,
    mapping: Annotated[
        list[str] | None, typer.Option("--map", help="'Column=target' (score, comment, ...).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import survey responses exported from a survey tool (idempotent by response id)."""
    open_workspace()
    from kith.surveys.importing import import_responses

    bar, tick = _bar(_interactive(as_json), "importing", None)
    with bar:
        report = import_responses(viewer=_system(), path=file, survey=survey, preset=preset,
                                  mapping=mapping or [], progress=tick)  # fmt: skip
    emit(report, as_json, lambda v: say(
        f"{v['file']} ({v['preset']}): {v['imported']} imported, {v['already_there']} already "
        f"there, of {v['rows']} rows"))  # fmt: skip


def cmd_surveys(as_json: JsonOpt = False) -> None:
    """Every survey with its response rate."""
    open_workspace()
    from kith.surveys import selectors

    data = selectors.list_surveys(_system())
    emit(data, as_json, lambda v: table(
        "Surveys", ["id", "name", "kind", "asked", "answered", "rate"],
        [(s["id"], s["name"], s["kind"], s["response_rate"]["asked"],
          s["response_rate"]["answered"],
          "" if s["response_rate"]["value"] is None else f"{s['response_rate']['value']:.0f}%")
         for s in v]))  # fmt: skip


def cmd_voice(
    ref: Annotated[
        str | None, typer.Argument(metavar="[REF]", help="A record (default: the whole book).")
    ] = None,
    view: Annotated[str | None, typer.Option("--view", help="A saved view instead.")] = None,
    metric: Annotated[str, typer.Option("--metric", help="nps, csat, ces or sentiment.")] = "nps",
    every: Annotated[str, typer.Option("--every", help="month or quarter.")] = "quarter",
    as_of: Annotated[str | None, typer.Option("--as-of", help="As of this day.")] = None,
    periods: Annotated[int | None, typer.Option("--periods", help="How many periods.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The voice of the customer: a series per period with its trend and projection."""
    open_workspace()
    from kith.surveys.voice import voice

    data = voice(_system(), ref=ref, view=view, metric=metric, every=every, as_of=as_of,
                 count=periods)  # fmt: skip

    def render(v: dict[str, Any]) -> None:
        say(v["sentence"])
        table(None, ["period", "value", "n", "95% interval", "response rate"],
              [(s["period"], "" if s["value"] is None else f"{s['value']:g}", s["n"],
                "" if s["low"] is None else f"{s['low']:g} to {s['high']:g}",
                f"{s['response_rate']['answered']}/{s['response_rate']['sent']}")
               for s in v["series"]])  # fmt: skip
        cov = v["coverage"]
        if cov:
            say(f"coverage: {cov['reason']}")
            if cov["silent"]:
                shown = ", ".join(f"{p['name']} ({p['why']})" for p in cov["silent"])
                more = cov["silent_count"] - len(cov["silent"])
                say(f"never answered: {shown}" + (f" and {more} more" if more > 0 else ""))

    emit(data, as_json, render)


@sentiment_app.command("rescore")
def cmd_rescore(
    since: Annotated[str | None, typer.Option("--since", help="Only from this day.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score the sentiment of interactions with text (a person's value is kept)."""
    open_workspace()
    from kith.core.parse import parse_date
    from kith.surveys.scoring import rescore

    day = parse_date(since, field="since")
    bar, tick = _bar(_interactive(as_json), "scoring", None)
    with bar:
        counts = rescore(since=day, progress=tick)
    emit(counts, as_json, lambda v: say(
        f"read {v['read']}: {v['scored']} scored ({v['changed']} changed), {v['unscored']} "
        f"not in a language the lexicon reads, {v['kept_manual']} set by a person kept"
    ))  # fmt: skip


@sentiment_app.command("show")
def cmd_sentiment_show(
    interaction: Annotated[str, typer.Argument(metavar="INTERACTION", help="Its id.")],
    as_json: JsonOpt = False,
) -> None:
    """An interaction's sentiment, where it came from and the phrases behind it."""
    open_workspace()
    from kith.surveys.selectors import sentiment_of

    data = sentiment_of(_system(), interaction)
    emit(data, as_json, lambda v: say(
        f"{v['interaction']}: {v['value']} ({v['source'] or 'not scored'})"
        + (f"; evidence: {', '.join(v['evidence'])}" if v["evidence"] else "")
        + (f"; {v['note']}" if v.get("note") else "")))  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(survey_app, name="survey")
    app.add_typer(sentiment_app, name="sentiment")
    app.command("surveys")(cmd_surveys)
    app.command("voice")(cmd_voice)
