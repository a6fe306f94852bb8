"""``kith demo``: a realistic, deterministic workspace to try Kith on."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say
from kith.core import clock


def cmd_demo(
    people: Annotated[int, typer.Option("--people", min=20)] = 1_500,
    orgs: Annotated[int, typer.Option("--orgs", min=5)] = 150,
    team: Annotated[int, typer.Option("--team", min=2)] = 12,
    relationships: Annotated[int, typer.Option("--relationships", min=0)] = 4_500,
    interactions: Annotated[int, typer.Option("--interactions", min=0)] = 20_000,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    end: Annotated[
        str | None,
        typer.Option(
            "--end", help="Last day of the data (default today); same seed + end = same data."
        ),
    ] = None,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when the workspace has data.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Fill an empty workspace with demo data (two years of a consultancy's relationships)."""
    open_workspace()
    from kith.core.parse import parse_date
    from kith.demo.generator import Spec
    from kith.demo.services import has_data, load_demo

    if if_empty and has_data():
        emit({"loaded": False}, as_json, lambda r: say("workspace already has data; demo skipped"))
        return
    spec = Spec(
        people=people,
        orgs=orgs,
        team=team,
        relationships=relationships,
        interactions=interactions,
        seed=seed,
        end=parse_date(end, field="end") or clock.local_today(),
    )
    if as_json:
        result = load_demo(spec=spec)
    else:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            total = people + orgs + relationships + interactions + 1
            task = bar.add_task("loading demo data", total=total)
            result = load_demo(spec=spec, progress=lambda table, n: bar.advance(task, n))

    from kith.plans.demo import seed_demo_plan
    from kith.tasks.demo import seed_demo_tasks

    if result["anchor_org"] != result["home"]:
        result["plan"] = seed_demo_plan(result["anchor_org"])["plan"]
        result["keep_in_touch"] = seed_demo_tasks(result["anchor_org"])
        from kith.surveys.demo import seed_demo_surveys

        result["surveys"] = seed_demo_surveys(result["anchor_org"], seed=seed, end=spec.end)
        from kith.pipelines.demo import seed_demo_deals

        result["deals"] = seed_demo_deals(result["anchor_org"], seed=seed, end=spec.end)

    def render(r: dict[str, Any]) -> None:
        say(
            f"demo workspace loaded: {r['records']} records, {r['relationships']} relationships, "
            f"{r['interactions']} interactions ({r['participants']} participations); "
            f"our team has {r['team']} people"
        )
        say("try: kith team | kith list --type org --limit 10 | kith timeline " + r["anchor_org"])
        if r.get("plan"):
            say(f"      kith plan show {r['plan']} | kith next | kith due | kith tasks")

    emit(result, as_json, render)


def register(app: typer.Typer) -> None:
    app.command("demo")(cmd_demo)
