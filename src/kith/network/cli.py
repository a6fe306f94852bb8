"""CLI: path, mutual, map, orgchart, connectors."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say, table

AsOf = Annotated[
    str | None, typer.Option("--as-of", help="The network as of this date (default today).")
]


def _as_of(value: str | None) -> Any:
    from kith.relationships.selectors import validate_as_of

    return validate_as_of(value)


def cmd_path(
    from_or_to: Annotated[str, typer.Argument(metavar="FROM", help="From (or TO if alone).")],
    to: Annotated[str | None, typer.Argument(metavar="TO", help="Person or organisation.")] = None,
    max_hops: Annotated[int, typer.Option("--max-hops", help="Longest path.")] = 4,
    k: Annotated[int, typer.Option("--k", help="How many paths.")] = 3,
    as_of: AsOf = None,
    as_json: JsonOpt = False,
) -> None:
    """Warm introduction paths, strongest first (FROM defaults to our whole team)."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.network.selectors import path

    src, dst = (from_or_to, to) if to is not None else (None, from_or_to)
    view = path(SYSTEM, dst, from_=src, max_hops=max_hops, k=k, as_of=_as_of(as_of))

    def render(v: dict[str, Any]) -> None:
        if not v["paths"]:
            say(f"no path to {v['to']['name']} within {v['max_hops']} hops on {v['as_of']}")
            return
        say(f"ranked {v['ranking']}")
        for n, p in enumerate(v["paths"], 1):
            hops = f"{p['hops']} hop{'s' if p['hops'] != 1 else ''}"
            say(f"{n}. score {p['score']:.1f} (strength {p['strength']:.1f}, {hops})")
            for s in p["steps"]:
                say(
                    f"   {s['from']['name']} --{s['label']} ({s['strength']:.0f})--> "
                    f"{s['to']['name']}"
                )

    emit(view, as_json, render)


def cmd_mutual(
    a: Annotated[str, typer.Argument()],
    b: Annotated[str, typer.Argument()],
    as_of: AsOf = None,
    as_json: JsonOpt = False,
) -> None:
    """People and organisations both A and B are connected to, with how."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.network.selectors import mutual

    view = mutual(SYSTEM, a, b, as_of=_as_of(as_of))
    emit(
        view,
        as_json,
        lambda v: table(
            f"{v['a']['name']} and {v['b']['name']}: {len(v['mutual'])} in common",
            ["name", "type", f"{v['a']['name']}", f"{v['b']['name']}"],
            [(r["name"], r["type"], r["via_a"]["label"], r["via_b"]["label"]) for r in v["mutual"]],
        ),
    )


def cmd_map(
    ref: Annotated[str, typer.Argument()],
    depth: Annotated[int, typer.Option("--depth", help="Hops from REF (1-3).")] = 1,
    as_of: AsOf = None,
    as_json: JsonOpt = False,
) -> None:
    """The ego network of REF grouped by relationship type (--json: nodes and edges)."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.network.selectors import ego_map

    view = ego_map(SYSTEM, ref, depth=depth, as_of=_as_of(as_of))

    def render(v: dict[str, Any]) -> None:
        say(
            f"{v['center']['name']} on {v['as_of']}: {len(v['nodes']) - 1} connections "
            f"within {v['depth']} hop(s)"
        )
        for label, rows in v["groups"].items():
            say(f"{label} ({len(rows)})")
            for r in rows[:25]:
                say(f"  {r['name']} [{r['type']}] {r['strength']:.0f}")
            if len(rows) > 25:
                say(f"  ... and {len(rows) - 25} more")

    emit(view, as_json, render)


def cmd_orgchart(
    org: Annotated[str, typer.Argument()], as_of: AsOf = None, as_json: JsonOpt = False
) -> None:
    """The organisation chart from reports_to among its current people."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.network.selectors import orgchart

    view = orgchart(SYSTEM, org, as_of=_as_of(as_of))

    def render(v: dict[str, Any]) -> None:
        say(f"{v['org']['name']} on {v['as_of']}: {v['people']} people")

        def walk(node: dict[str, Any], indent: int) -> None:
            role = f" ({node['role']})" if node["role"] else ""
            say(f"{'  ' * indent}{node['name']}{role}")
            for kid in node["reports"]:
                walk(kid, indent + 1)

        for root in v["tree"]:
            walk(root, 1)

    emit(view, as_json, render)


def cmd_connectors(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation.")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 20,
    as_of: AsOf = None,
    as_json: JsonOpt = False,
) -> None:
    """People who bridge otherwise separate groups (betweenness centrality)."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.network.selectors import connectors

    view = connectors(SYSTEM, org=org, limit=limit, as_of=_as_of(as_of))
    emit(
        view,
        as_json,
        lambda v: table(
            f"connectors ({v['scope']}, {v['measure']})",
            ["name", "betweenness", "ties"],
            [(r["name"], r["betweenness"], r["degree"]) for r in v["connectors"]],
        ),
    )


def register(app: typer.Typer) -> None:
    app.command("path")(cmd_path)
    app.command("mutual")(cmd_mutual)
    app.command("map")(cmd_map)
    app.command("orgchart")(cmd_orgchart)
    app.command("connectors")(cmd_connectors)
