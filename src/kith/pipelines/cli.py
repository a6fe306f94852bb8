"""CLI: kith pipeline add|list|enter, kith deal add|show|move|win|lose, kith deals,
kith funnel,
kith dashboard add|list|show|export."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say, table

pipeline_app = typer.Typer(help="Pipelines of stages on any record type.", no_args_is_help=True)
deal_app = typer.Typer(help="Deals: add, show, move, win, lose.", no_args_is_help=True)
dashboard_app = typer.Typer(help="Dashboards defined as data.", no_args_is_help=True)

AsOf = Annotated[str | None, typer.Option("--as-of", help="As of this day (default today).")]
At = Annotated[str | None, typer.Option("--at", help="When it happened (default now).")]
DealRef = Annotated[str, typer.Argument(metavar="DEAL", help="The deal: id or exact name.")]
Reason = Annotated[str | None, typer.Option("--reason", help="Why (a lost reason to lose).")]
PipelineOpt = Annotated[
    str | None, typer.Option("--pipeline", help="The pipeline (default: the deals' first).")
]


def _system() -> Any:
    from kith.core.viewer import SYSTEM

    return SYSTEM


def _percent(spec: str, *, option: str) -> tuple[str, float]:
    from kith.core.errors import ValidationError

    key, _, prob = spec.partition(":")
    try:
        value = float(prob)
    except ValueError:
        raise ValidationError(
            f"{option}: {spec!r} is not KEY:PROBABILITY (a per cent, 0..100)",
            field=option.lstrip("-"),
        ) from None
    return key, value / 100


@pipeline_app.command("add")
def cmd_pipeline_add(
    type_key: Annotated[str, typer.Argument(metavar="TYPE", help="The record type it is for.")],
    key: Annotated[str, typer.Argument(metavar="KEY", help="The pipeline's key.")],
    stage: Annotated[
        list[str] | None,
        typer.Option("--stage", help="KEY:PROBABILITY (per cent) of an open stage, in order."),
    ] = None,
    won: Annotated[list[str] | None, typer.Option("--won", help="A won stage's key.")] = None,
    lost: Annotated[list[str] | None, typer.Option("--lost", help="A lost stage's key.")] = None,
    reason: Annotated[
        list[str] | None, typer.Option("--reason", help="A lost reason's key.")
    ] = None,
    require_reason: Annotated[
        bool, typer.Option("--require-reason", help="Losing needs a lost reason.")
    ] = False,
    label: Annotated[str | None, typer.Option("--label", help="A label to show.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a pipeline: open stages in order, then its won and lost stages."""
    open_workspace()
    from kith.pipelines.selectors import pipeline_view
    from kith.pipelines.services import add_pipeline

    stages = [(*_percent(s, option="--stage"), "open") for s in stage or []]
    stages += [(w, 1.0, "won") for w in won or []]
    stages += [(lo, 0.0, "lost") for lo in lost or []]
    p = add_pipeline(
        type_key=type_key,
        key=key,
        label=label,
        stages=stages,
        reasons=reason or [],
        lost_reason_required=require_reason,
    )
    emit(pipeline_view(p), as_json, lambda v: say(f"pipeline {v['key']} for {v['type']}"))


def _show_pipelines(rows: list[dict[str, Any]]) -> None:
    table(
        None,
        ["key", "type", "stages", "lost reasons"],
        [
            (
                p["key"],
                p["type"],
                " > ".join(f"{s['key']} {s['probability']:g}%" for s in p["stages"]),
                ", ".join(p["lost_reasons"]) + (" (required)" if p["lost_reason_required"] else ""),
            )
            for p in rows
        ],
    )


@pipeline_app.command("list")
def cmd_pipeline_list(
    type_key: Annotated[str | None, typer.Option("--type", help="Only this record type.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the pipelines with their stages and lost reasons."""
    open_workspace()
    from kith.pipelines.selectors import pipelines

    emit(pipelines(_system(), type_key=type_key), as_json, _show_pipelines)


@pipeline_app.command("enter")
def cmd_pipeline_enter(
    ref: Annotated[str, typer.Argument(metavar="REF", help="The record.")],
    pipeline: Annotated[str, typer.Argument(metavar="PIPELINE", help="The pipeline.")],
    stage: Annotated[str | None, typer.Option("--stage", help="Default the first.")] = None,
    at: At = None,
    as_json: JsonOpt = False,
) -> None:
    """Put a record into a pipeline of its type (a lead lifecycle, tickets ...)."""
    open_workspace()
    from kith.pipelines.services import enter_record

    c = enter_record(viewer=_system(), ref=ref, pipeline=pipeline, stage=stage, at=at)
    _moved(c, as_json)


def _moved(c: Any, as_json: bool) -> None:
    data = {
        "record": c.record_id,
        "name": c.record.name,
        "pipeline": c.pipeline_id,
        "from": c.from_stage.key if c.from_stage else None,
        "to": c.to_stage.key,
        "at": c.at.isoformat(),
        "reason": c.reason,
    }
    emit(data, as_json, lambda v: say(f"{v['name']}: {v['from'] or '-'} -> {v['to']}"))


@deal_app.command("add")
def cmd_deal_add(
    account: Annotated[str, typer.Argument(metavar="ACCOUNT", help="The organisation or person.")],
    name: Annotated[str, typer.Argument(metavar="NAME", help="The deal's name.")],
    amount: Annotated[float, typer.Option("--amount", help="Its amount.")],
    currency: Annotated[str | None, typer.Option("--currency", help="Default EUR.")] = None,
    close: Annotated[str | None, typer.Option("--close", help="Expected close day.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="One of our people.")] = None,
    contact: Annotated[
        list[str] | None, typer.Option("--contact", help="REF:ROLE of a person on it.")
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help="Where it came from.")] = None,
    stage: Annotated[str | None, typer.Option("--stage", help="Default the first.")] = None,
    pipeline: PipelineOpt = None,
    at: At = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a deal for an account (the first deal makes the 'sales' pipeline if none)."""
    open_workspace()
    from kith.pipelines.selectors import deal_view
    from kith.pipelines.services import add_deal

    people = [[*c.rsplit(":", 1), ""][:2] for c in contact or []]
    deal = add_deal(
        viewer=_system(),
        account=account,
        name=name,
        amount=amount,
        currency=currency,
        close=close,
        owner=owner,
        contacts=[(p[0], p[1]) for p in people],
        source=source,
        stage=stage,
        pipeline=pipeline,
        at=at,
    )
    emit(deal_view(_system(), deal.id), as_json, lambda v: say(f"deal {v['id']}: {v['name']}"))


def _show_deal(v: dict[str, Any]) -> None:
    acct = v["account"]["name"] if v["account"] else "-"
    owner = v["owner"]["name"] if v["owner"] else "-"
    say(f"{v['name']} ({v['id']}) for {acct}")
    say(
        f"  {v['pipeline']}: {v['stage']} ({v['category']}, {v['probability']:g}%)  "
        f"{v['amount']} {v['currency'] or ''}  weighted {v['weighted']}  close {v['close'] or '-'}"
    )
    say(f"  owner {owner}  source {v['source'] or '-'}")
    for p in v["people"]:
        say(f"  {p['name']} ({p['role'] or 'no role'})")
    table(
        "stage history",
        ["at", "from", "to", "by", "reason"],
        [(h["at"][:16], h["from"] or "-", h["to"], h["by"], h["reason"]) for h in v["history"]],
    )


@deal_app.command("show")
def cmd_deal_show(deal: DealRef, as_json: JsonOpt = False) -> None:
    """Show a deal: account, people and roles, stage, amounts, stage history."""
    open_workspace()
    from kith.pipelines.selectors import deal_view

    emit(deal_view(_system(), deal), as_json, _show_deal)


@deal_app.command("move")
def cmd_deal_move(
    deal: DealRef,
    stage: Annotated[str, typer.Argument(metavar="STAGE", help="The stage to move to.")],
    reason: Reason = None,
    note: Annotated[str, typer.Option("--note", help="A note on the move.")] = "",
    pipeline: PipelineOpt = None,
    at: At = None,
    as_json: JsonOpt = False,
) -> None:
    """Move a deal (or any record in a pipeline) to a stage."""
    open_workspace()
    from kith.pipelines.services import move

    c = move(
        viewer=_system(), ref=deal, stage=stage, pipeline=pipeline, reason=reason, note=note, at=at
    )
    _moved(c, as_json)


@deal_app.command("win")
def cmd_deal_win(
    deal: DealRef, reason: Reason = None, at: At = None, as_json: JsonOpt = False
) -> None:
    """Mark a deal won (its pipeline's won stage)."""
    open_workspace()
    from kith.pipelines.services import win

    _moved(win(viewer=_system(), ref=deal, reason=reason, at=at), as_json)


@deal_app.command("lose")
def cmd_deal_lose(
    deal: DealRef, reason: Reason = None, at: At = None, as_json: JsonOpt = False
) -> None:
    """Mark a deal lost, with a lost reason."""
    open_workspace()
    from kith.pipelines.services import lose

    _moved(lose(viewer=_system(), ref=deal, reason=reason, at=at), as_json)


def _show_deals(v: dict[str, Any]) -> None:
    table(
        f"{v['total']} in {v['pipeline']}" + (f" as of {v['as_of']}" if v["as_of"] else ""),
        ["id", "name", "account", "stage", "amount", "weighted", "close", "owner"],
        [
            (
                r["id"],
                r["name"],
                r["account"]["name"] if r["account"] else "-",
                r["stage"],
                f"{r['amount']:,.2f} {r['currency'] or ''}" if r["amount"] is not None else "-",
                r["weighted"],
                r["close"] or "-",
                r["owner"]["name"] if r["owner"] else "-",
            )
            for r in v["rows"]
        ],
    )


def cmd_deals(
    stage: Annotated[str | None, typer.Option("--stage", help="Only at this stage.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's.")] = None,
    as_of: AsOf = None,
    pipeline: PipelineOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows.")] = 500,
    as_json: JsonOpt = False,
) -> None:
    """List deals at their stage now or as of a day, newest move first."""
    open_workspace()
    from kith.pipelines.selectors import positions

    data = positions(
        _system(), pipeline=pipeline, stage=stage, owner=owner, as_of=as_of, limit=limit
    )
    emit(data, as_json, _show_deals)


def _show_funnel(v: dict[str, Any]) -> None:
    unit = "amount" if v["measure"] == "amount" else "deals"
    groups = v["groups"] or [{"name": "", **v}]
    for g in groups:
        title = f"{v['pipeline']} funnel, {v['from']}..{v['to']} as of {v['as_of']} ({unit})"
        if v["by"]:
            title += f", {v['by']}: {g.get('name') or g['key'] or '(none)'}"
        table(
            title,
            ["stage", "entries", "advanced", "skipped", "lost", "back", "still", "conv", "days"],
            [
                (
                    r["stage"],
                    r["entries"],
                    r["advanced"],
                    r["skipped"],
                    r["lost"],
                    r["moved_back"],
                    r["still"],
                    f"{r['conversion'] * 100:.0f}%" if r["conversion"] is not None else "-",
                    r["median_days"] if r["median_days"] is not None else "-",
                )
                for r in g["rows"]
            ],
        )
        c = g["cohort"]
        conv = g["overall_conversion"]
        rate = f"{conv * 100:.0f}%" if conv is not None else "-"
        say(
            f"cohort created in the window: {c['created']} -> won {c['won']}, lost {c['lost']}, "
            f"open {c['open']}; overall conversion {rate}"
        )


def cmd_funnel(
    pipeline: PipelineOpt = None,
    start: Annotated[str | None, typer.Option("--from", help="First day of the window.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (default as-of).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="source or owner.")] = None,
    value: Annotated[bool, typer.Option("--value", help="By amount, not count.")] = False,
    as_of: AsOf = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Who asks (needed for --by owner).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The funnel from stage history: entries per stage and what became of them."""
    open_workspace()
    from kith.accounts.selectors import get_user, viewer_of
    from kith.pipelines.funnel import funnel

    viewer = viewer_of(get_user(user, field="user")) if user else _system()
    data = funnel(viewer, pipeline=pipeline, start=start, end=end, by=by, value=value, as_of=as_of)
    emit(data, as_json, _show_funnel)


@dashboard_app.command("add")
def cmd_dashboard_add(
    key: Annotated[str, typer.Argument(metavar="KEY", help="The dashboard's key.")],
    name: Annotated[str | None, typer.Option("--name", help="Its name.")] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="A JSON file: a list of widgets, or an export.")
    ] = None,
    starter: Annotated[
        str | None, typer.Option("--starter", help="sales, support or marketing.")
    ] = None,
    owner: Annotated[str, typer.Option("--owner", help="The owning user's email.")] = "",
    shared: Annotated[
        str, typer.Option("--shared", help="everyone, team (the owner's) or private.")
    ] = "everyone",
    replace: Annotated[bool, typer.Option("--replace", help="Replace one with this key.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Save a dashboard from a JSON file of widgets or a starter (outcomes, not activity)."""
    open_workspace()
    import json
    from pathlib import Path

    from kith.core.errors import ValidationError
    from kith.pipelines.dashboards import definition
    from kith.pipelines.services import save_dashboard

    widgets: Any = None
    if file:
        try:
            widgets = json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValidationError(f"--file: {file}: {exc}", field="file") from None
        if isinstance(widgets, dict):  # an export
            name = name or widgets.get("name")
            widgets = widgets.get("widgets")
    d = save_dashboard(
        key=key,
        name=name,
        widgets=widgets,
        starter=starter,
        owner=owner,
        shared=shared,
        replace=replace,
    )
    emit(definition(d), as_json, lambda v: say(f"dashboard {v['key']}: {len(v['widgets'])}"))


@dashboard_app.command("list")
def cmd_dashboard_list(as_json: JsonOpt = False) -> None:
    """List the dashboards."""
    open_workspace()
    from kith.pipelines.dashboards import dashboards

    emit(
        dashboards(_system()),
        as_json,
        lambda rows: table(
            None,
            ["key", "name", "owner", "shared", "widgets"],
            [(d["key"], d["name"], d["owner"], d["shared"], len(d["widgets"])) for d in rows],
        ),
    )


def _said(w: dict[str, Any]) -> str:
    if "error" in w:
        return f"cannot be computed: {w['error']}"
    if "funnel" in w:
        f = w["funnel"]
        return "; ".join(f"{r['stage']} {r['entries']}" for r in f["rows"])
    cur = w["current"]
    text = f"{cur['value']}"
    if "comparison" in w:
        text += f" (was {w['comparison']['value']} on {w['comparison']['as_of']})"
    if cur["reasons"]:
        text += f" — {cur['reasons'][0]}"
    return text


@dashboard_app.command("show")
def cmd_dashboard_show(
    key: Annotated[str, typer.Argument(metavar="KEY", help="The dashboard.")],
    as_of: AsOf = None,
    user: Annotated[str | None, typer.Option("--user", help="As this user sees it.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compute a dashboard's widgets as of a day, each with its reasons."""
    open_workspace()
    from kith.accounts.selectors import get_user, viewer_of
    from kith.pipelines.dashboards import dashboard_view

    viewer = viewer_of(get_user(user, field="user")) if user else _system()
    data = dashboard_view(viewer, key, as_of=as_of)

    def render(v: dict[str, Any]) -> None:
        say(f"{v['name']} as of {v['as_of']}")
        for w in v["widgets"]:
            say(f"  {w['title']} ({w['chart']}): {_said(w)}")

    emit(data, as_json, render)


@dashboard_app.command("export")
def cmd_dashboard_export(
    key: Annotated[str, typer.Argument(metavar="KEY", help="The dashboard.")],
    as_json: JsonOpt = False,
) -> None:
    """Print a dashboard's definition as JSON (kith dashboard add KEY --file reads it)."""
    open_workspace()
    from kith.cli.output import print_json
    from kith.pipelines.dashboards import definition, get_dashboard

    print_json(definition(get_dashboard(_system(), key)))


def register(app: typer.Typer) -> None:
    app.add_typer(pipeline_app, name="pipeline")
    app.add_typer(deal_app, name="deal")
    app.add_typer(dashboard_app, name="dashboard")
    app.command("deals")(cmd_deals)
    app.command("funnel")(cmd_funnel)
