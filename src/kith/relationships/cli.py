"""CLI commands for relationships: reltype add/list, relate, unrelate, relations, team, history."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say, table

reltype_app = typer.Typer(help="Relationship types.", no_args_is_help=True)


@reltype_app.command("add")
def reltype_add(
    name: Annotated[str, typer.Argument(help="Type name read forwards, e.g. mentors.")],
    inverse: Annotated[str | None, typer.Option("--inverse", help="Name read backwards.")] = None,
    symmetric: Annotated[bool, typer.Option("--symmetric", help="Same both ways.")] = False,
    from_type: Annotated[
        list[str] | None, typer.Option("--from", help="Allowed source type.")
    ] = None,
    to_type: Annotated[list[str] | None, typer.Option("--to", help="Allowed target type.")] = None,
    rollup: Annotated[
        bool,
        typer.Option("--rollup", help="Show the source's interactions on the target's timeline."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Define a relationship type."""
    open_workspace()
    from kith.relationships.selectors import list_types
    from kith.relationships.services import add_type

    rtype = add_type(
        name=name,
        inverse=inverse,
        symmetric=symmetric,
        from_types=from_type or [],
        to_types=to_type or [],
        rollup=rollup,
    )
    view = next(t for t in list_types() if t["key"] == rtype.key)
    emit(
        view,
        as_json,
        lambda v: say(
            f"created relationship type {v['key']}"
            + (" (symmetric)" if v["symmetric"] else f" / {v['inverse']}")
        ),
    )


@reltype_app.command("list")
def reltype_list(as_json: JsonOpt = False) -> None:
    """List relationship types."""
    open_workspace()
    from kith.relationships.selectors import list_types

    emit(
        list_types(),
        as_json,
        lambda rows: table(
            "relationship types",
            ["type", "inverse", "from", "to", "notes"],
            [
                (
                    t["key"],
                    "(symmetric)" if t["symmetric"] else t["inverse"],
                    ",".join(t["from_types"]) or "any",
                    ",".join(t["to_types"]) or "any",
                    " ".join(
                        x
                        for x in ("rollup" if t["rollup"] else "", "" if t["builtin"] else "custom")
                        if x
                    ),
                )
                for t in rows
            ],
        ),
    )


def _rel_line(v: dict[str, Any]) -> str:
    dates = ""
    if v["since"] or v["until"]:
        dates = f" [{v['since'] or '?'} .. {v['until'] or 'now'}]"
    role = f" as {v['role']}" if v["role"] else ""
    return f"{v['from']['name']} {v['type']} {v['to']['name']}{role}{dates} ({v['id']})"


def cmd_relate(
    a: Annotated[str, typer.Argument(help="First record.")],
    type_name: Annotated[str, typer.Argument(metavar="TYPE", help="e.g. works_at, knows.")],
    b: Annotated[str, typer.Argument(help="Second record.")],
    role: Annotated[str, typer.Option("--role", help="Role or title.")] = "",
    since: Annotated[str | None, typer.Option("--since", help="Start date YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="End date YYYY-MM-DD.")] = None,
    note: Annotated[str, typer.Option("--note", help="Free text.")] = "",
    source: Annotated[str, typer.Option("--source", help="Where this came from.")] = "cli",
    as_json: JsonOpt = False,
) -> None:
    """Relate two records: A TYPE B (an inverse name works too: Acme employs Jane)."""
    open_workspace()
    from kith.relationships.selectors import relationship_view
    from kith.relationships.services import relate

    rel = relate(
        a=a, type_name=type_name, b=b, role=role, since=since, until=until, note=note, source=source
    )
    emit(relationship_view(rel), as_json, lambda v: say("related: " + _rel_line(v)))


def cmd_unrelate(
    rel_id: Annotated[str, typer.Argument(help="Relationship id (rel_...).")],
    on: Annotated[str | None, typer.Option("--on", help="End date (default today).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """End a relationship; it stays in the history and in --as-of views."""
    open_workspace()
    from kith.relationships.selectors import relationship_view
    from kith.relationships.services import end_relationship

    rel = end_relationship(rel_id=rel_id, on=on)
    emit(relationship_view(rel), as_json, lambda v: say("ended: " + _rel_line(v)))


def cmd_relations(
    ref: Annotated[str, typer.Argument(help="Record id, unique email or exact name.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Only those in force then.")] = None,
    type_name: Annotated[str | None, typer.Option("--type", help="Only this type/label.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List a record's relationships from its side, current and ended."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.records.selectors import resolve
    from kith.relationships.selectors import relations_view, validate_as_of

    record = resolve(SYSTEM, ref)
    rows = relations_view(SYSTEM, record, as_of=validate_as_of(as_of), type_name=type_name)
    emit(
        rows,
        as_json,
        lambda rs: table(
            f"{record.name}: {len(rs)} relationship(s)" + (f" as of {as_of}" if as_of else ""),
            ["id", "relation", "with", "type", "role", "since", "until", "status"],
            [
                (
                    r["id"],
                    r["label"],
                    r["other"]["name"],
                    r["other"]["type"],
                    r["role"],
                    r["since"],
                    r["until"],
                    "active" if r["active"] else "upcoming" if r.get("upcoming") else "ended",
                )
                for r in rs
            ],
        ),
    )


def cmd_team(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Team on that date.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List our team: the people who work at the home organisation."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.relationships.selectors import team, validate_as_of

    rows = team(SYSTEM, validate_as_of(as_of))
    emit(
        rows,
        as_json,
        lambda rs: table(
            "our team", ["id", "name", "email"], [(r["id"], r["name"], r["email"]) for r in rs]
        ),
    )


def cmd_history(
    ref: Annotated[str, typer.Argument(help="Record id, unique email or exact name.")],
    limit: Annotated[int, typer.Option("--limit", help="At most 500 changes.")] = 500,
    after: Annotated[
        str | None, typer.Option("--after", help="The cursor a previous page printed.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show who changed what and when on a record (and its relationships), oldest first."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.records.selectors import resolve
    from kith.relationships.selectors import record_history

    record = resolve(SYSTEM, ref, include_deleted=True)
    rows, more = record_history(SYSTEM, record, cursor=after, limit=limit)
    emit(
        rows,
        as_json,
        lambda rs: table(
            None,
            ["at", "who", "what", "field", "old", "new"],
            [
                (
                    r["at"][:19],
                    r["actor"],
                    f"{r['action']} {r['entity_id']}",
                    r["field"],
                    _short(r["old"]),
                    _short(r["new"]),
                )
                for r in rs
            ],
        ),
    )
    if more:
        typer.echo(f"more: kith history {record.id} --after {more}", err=True)


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def register(app: typer.Typer) -> None:
    app.add_typer(reltype_app, name="reltype")
    app.command("relate")(cmd_relate)
    app.command("unrelate")(cmd_unrelate)
    app.command("relations")(cmd_relations)
    app.command("team")(cmd_team)
    app.command("history")(cmd_history)
