"""CLI: kith metric list, kith metric show KEY (REF | --view NAME [--user EMAIL]) [--as-of D]
[--window 90d] [--filter JSON]."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say, table

metric_app = typer.Typer(help="The metric catalogue: named measures of relationships.")


@metric_app.command("list")
def cmd_list(as_json: JsonOpt = False) -> None:
    """Every metric: key, unit, what it is measured for, its parameters."""
    open_workspace()
    from kith.metrics.selectors import list_metrics

    emit(
        list_metrics(),
        as_json,
        lambda v: table(
            "metrics",
            ["key", "label", "unit", "for", "params"],
            [
                (m["key"], m["label"], m["unit"], ",".join(m["scopes"]), ", ".join(m["params"]))
                for m in v
            ],
        ),
    )


def scope_name(scope: dict[str, Any]) -> str:
    if scope["type"] == "view":
        return f"the view {scope['name']!r} ({scope['records']} {scope['of']} records)"
    return str(scope["name"])


def render_result(v: dict[str, Any]) -> None:
    value = "none" if v["value"] is None else f"{v['value']:g}"
    say(
        f"{v['label']} for {scope_name(v['scope'])}: {value} {v['unit']} "
        f"(as of {v['as_of']}, window {v['window_days']} days, n={v['n']})"
    )
    for r in v["reasons"]:
        say(f"  - {r}")
    if v["evidence"]:
        more = " ..." if len(v["evidence"]) > 10 else ""
        say(f"  evidence: {', '.join(v['evidence'][:10])}{more}")


@metric_app.command("show")
def cmd_show(
    key: Annotated[str, typer.Argument(help="The metric's key (kith metric list).")],
    ref: Annotated[str | None, typer.Argument(help="The record: id, email or exact name.")] = None,
    view: Annotated[
        str | None, typer.Option("--view", help="A saved view's name, instead of a record.")
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="With --view: whose view, read as they may see it."),
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="As of this day.")] = None,
    window: Annotated[str | None, typer.Option("--window", help="e.g. 90d, 12w, 3m.")] = None,
    filter_: Annotated[
        str | None, typer.Option("--filter", help="The metric's parameters as JSON.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """One metric for one record, or for the records of a saved view (--view), with its
    reasons and evidence."""
    open_workspace()
    from kith.accounts.selectors import get_user, viewer_of
    from kith.core.errors import ValidationError
    from kith.core.viewer import SYSTEM
    from kith.metrics.selectors import show, show_view

    if (ref is None) == (view is None):
        raise ValidationError("ref: give a record or --view NAME (one of them)", field="ref")
    if view is None:
        if user is not None:
            raise ValidationError("--user: only with --view", field="user")
        data = show(SYSTEM, key, str(ref), as_of=as_of, window=window, params=filter_)
    else:
        who = SYSTEM if user is None else viewer_of(get_user(user, field="user"))
        data = show_view(who, key, view, as_of=as_of, window=window, params=filter_)
    emit(data, as_json, render_result)


outcome_app = typer.Typer(
    help="The outcome vocabulary of interactions (kith log --outcome KEY).", no_args_is_help=True
)


@outcome_app.command("list")
def cmd_outcome_list(
    value_events: Annotated[
        bool, typer.Option("--value-events", help="Only the value events.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The outcome types with their polarity; value events are what goals can measure."""
    open_workspace()
    from kith.interactions.outcomes import outcome_types

    emit(
        outcome_types(value_event=True if value_events else None),
        as_json,
        lambda v: table(
            "outcomes",
            ["key", "label", "polarity", "value event"],
            [(o["key"], o["label"], o["polarity"], "yes" if o["value_event"] else "") for o in v],
        ),
    )


@outcome_app.command("add")
def cmd_outcome_add(
    key: Annotated[str, typer.Argument(metavar="KEY", help="e.g. demo_booked.")],
    polarity: Annotated[
        str, typer.Option("--polarity", help="positive, neutral or negative.")
    ] = "neutral",
    label: Annotated[str, typer.Option("--label")] = "",
    value_event: Annotated[
        bool, typer.Option("--value-event", help="A value event goals can measure.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add or change an outcome type."""
    open_workspace()
    from kith.interactions.outcomes import define_outcome

    o = define_outcome(key=key, label=label, polarity=polarity, value_event=value_event)
    emit(
        {"key": o.key, "label": o.label, "polarity": o.polarity, "value_event": o.value_event},
        as_json,
        lambda v: say(f"outcome {v['key']}: {v['polarity']}"),
    )


def register(app: typer.Typer) -> None:
    app.add_typer(metric_app, name="metric")
    app.add_typer(outcome_app, name="outcome")
