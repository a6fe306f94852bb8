"""CLI: strength, health (with trend), best, at-risk, rescore."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say, table

AsOf = Annotated[
    str | None, typer.Option("--as-of", help="Score as of this date (YYYY-MM-DD; default today).")
]
Limit = Annotated[int, typer.Option("--limit", help="How many to show.")]
TypeOpt = Annotated[
    str | None, typer.Option("--type", help="person or organization (default both).")
]


def _as_of(value: str | None) -> Any:
    from kith.relationships.selectors import validate_as_of

    return validate_as_of(value)


def _render_score(view: dict[str, Any], title: str) -> None:
    say(f"{title}: {view['score']:.0f}/100 ({view['band']})")
    for reason in view["reasons"]:
        say(f"  - {reason}")
    table(
        None,
        ["factor", "value", "contribution"],
        [(f["name"], f["value"], f"{f['contribution']:+.1f}") for f in view["factors"]],
    )


def cmd_strength(
    a: Annotated[str, typer.Argument(help="One of our people, or the other person.")],
    b: Annotated[str, typer.Argument(help="The other end of the tie.")],
    as_of: AsOf = None,
    as_json: JsonOpt = False,
) -> None:
    """Strength (0-100) of the tie between one of our people and another person, and why."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.intelligence.selectors import strength

    view = strength(SYSTEM, a, b, as_of=_as_of(as_of))
    emit(
        view,
        as_json,
        lambda v: _render_score(
            v, f"{v['member']['name']} ~ {v['person']['name']} on {v['as_of']}"
        ),
    )


def cmd_health(
    ref: Annotated[str, typer.Argument(help="A person or organisation.")],
    as_of: AsOf = None,
    trend: Annotated[bool, typer.Option("--trend", help="Also show the series.")] = False,
    every: Annotated[str, typer.Option("--every", help="week or month.")] = "month",
    periods: Annotated[int, typer.Option("--periods", help="Points in the series.")] = 12,
    as_json: JsonOpt = False,
) -> None:
    """Relationship health (0-100, band) of a person or organisation, with reasons."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.intelligence.selectors import health

    view = health(SYSTEM, ref, as_of=_as_of(as_of), trend=trend, every=every, periods=periods)

    def render(v: dict[str, Any]) -> None:
        _render_score(v, f"{v['record']['name']} on {v['as_of']}")
        say(
            f"previous ({v['previous']['as_of']}): {v['previous']['score']:.0f}  "
            f"change {v['change']:+.0f}"
        )
        if v.get("trend"):
            table(
                "trend",
                ["as of", "score", "band", ""],
                [
                    (p["as_of"], f"{p['score']:.0f}", p["band"], "#" * round(p["score"] / 5))
                    for p in v["trend"]
                ],
            )

    emit(view, as_json, render)


def cmd_best(
    as_of: AsOf = None, limit: Limit = 20, type_: TypeOpt = None, as_json: JsonOpt = False
) -> None:
    """Best organisations and people: value (engagement) weighted by health."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.intelligence.selectors import best

    rows = best(SYSTEM, as_of=_as_of(as_of), limit=limit, kind=type_)
    emit(
        rows,
        as_json,
        lambda rs: table(
            "best",
            ["name", "type", "health", "band", "value", "why"],
            [
                (
                    r["name"],
                    r["type"],
                    f"{r['score']:.0f}",
                    r["band"],
                    r["value"],
                    "; ".join(r["reasons"][:2]),
                )
                for r in rs
            ],
        ),
    )


def cmd_at_risk(
    as_of: AsOf = None, limit: Limit = 20, type_: TypeOpt = None, as_json: JsonOpt = False
) -> None:
    """Organisations and people whose health is low or falling, or who hit a risk event."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.intelligence.selectors import at_risk

    rows = at_risk(SYSTEM, as_of=_as_of(as_of), limit=limit, kind=type_)
    emit(
        rows,
        as_json,
        lambda rs: table(
            "at risk",
            ["name", "type", "health", "change", "newest", "why"],
            [
                (
                    r["name"],
                    r["type"],
                    f"{r['score']:.0f}",
                    f"{r['change']:+.0f}",
                    r["newest_event"],
                    "; ".join(r["reasons"][:3]),
                )
                for r in rs
            ],
        ),
    )


def cmd_rescore(as_json: JsonOpt = False) -> None:
    """Rebuild the interaction statistics behind every score, then every kept score."""
    import sys

    open_workspace()
    from kith.intelligence.kept_services import rescore
    from kith.intelligence.services import rebuild_pairstats

    if as_json or not sys.stdout.isatty():
        rows = rebuild_pairstats()
        kept = rescore()
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("counting interactions", total=None)
            rows = rebuild_pairstats()

            def step(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            kept = rescore(progress=step)
    data = {"pair_rows": rows, **kept}

    def render(d: dict[str, Any]) -> None:
        say(f"rebuilt {d['pair_rows']} pair rows")
        say(f"kept the health of {d['people']} people and {d['organizations']} organisations")
        say(f"as of {d['as_of']}")

    emit(data, as_json, render)


def register(app: typer.Typer) -> None:
    app.command("strength")(cmd_strength)
    app.command("health")(cmd_health)
    app.command("best")(cmd_best)
    app.command("at-risk")(cmd_at_risk)
    app.command("rescore")(cmd_rescore)
