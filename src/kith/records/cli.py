"""CLI commands for records: init, person/org/type/record add, show, list, edit, history, tags."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say, table

person_app = typer.Typer(help="People.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations.", no_args_is_help=True)
type_app = typer.Typer(help="Custom record types.", no_args_is_help=True)
record_app = typer.Typer(help="Records of custom types.", no_args_is_help=True)
tag_app = typer.Typer(help="Tags on records.", no_args_is_help=True)

SHOWN = 20  # relationships shown by `kith show`
Ref = Annotated[str, typer.Argument(help="Record id, unique email or exact unique name.")]


def _created(record: Any, as_json: bool) -> None:
    from kith.records.selectors import record_view

    view = record_view(record)
    emit(view, as_json, lambda v: say(f"created {v['type']} {v['name']} ({v['id']})"))


def cmd_init(
    home: Annotated[str | None, typer.Option("--home", help="Home organisation (ours).")] = None,
    domain: Annotated[list[str] | None, typer.Option("--domain", help="Our email domain.")] = None,
    change_home: Annotated[
        bool,
        typer.Option("--change-home", help="Switch to another home organisation on purpose."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create or upgrade the workspace; set the home organisation and its domains."""
    open_workspace()
    from kith.records.services import init_workspace

    result = init_workspace(home=home, domains=domain or [], change_home=change_home)

    def render(r: dict[str, Any]) -> None:
        if r["home"]:
            say(
                f"workspace ready; home organisation {r['home']['name']} ({r['home']['id']})"
                + (f", domains {', '.join(r['domains'])}" if r["domains"] else "")
            )
        else:
            say("workspace ready; no home organisation yet (kith init --home NAME)")

    emit(result, as_json, render)


@person_app.command("add")
def person_add(
    name: Annotated[str, typer.Argument(help="Full name.")],
    email: Annotated[list[str] | None, typer.Option("--email", help="Email (repeatable).")] = None,
    phone: Annotated[list[str] | None, typer.Option("--phone", help="Phone (repeatable).")] = None,
    title: Annotated[str | None, typer.Option("--title", help="Job title.")] = None,
    org: Annotated[str | None, typer.Option("--org", help="Organisation they work at.")] = None,
    role: Annotated[str | None, typer.Option("--role", help="Role at --org.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Working there since.")] = None,
    field: Annotated[list[str] | None, typer.Option("--field", help="name=value.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a person."""
    open_workspace()
    from kith.core.parse import parse_pairs
    from kith.relationships.services import add_person_at

    record = add_person_at(
        name=name,
        emails=email or [],
        phones=phone or [],
        title=title,
        fields=parse_pairs(field, option="--field"),
        org=org,
        role=role,
        since=since,
    )
    _created(record, as_json)


@org_app.command("add")
def org_add(
    name: Annotated[str, typer.Argument(help="Organisation name.")],
    domain: Annotated[list[str] | None, typer.Option("--domain", help="Web/email domain.")] = None,
    field: Annotated[list[str] | None, typer.Option("--field", help="name=value.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add an organisation."""
    open_workspace()
    from kith.core.parse import parse_pairs
    from kith.records.services import add_organization

    _created(
        add_organization(
            name=name, domains=domain or [], fields=parse_pairs(field, option="--field")
        ),
        as_json,
    )


@type_app.command("add")
def type_add(
    name: Annotated[str, typer.Argument(help="Type name, e.g. vendor.")],
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field", help="NAME:KIND (text number date choice:a|b email url bool; ! = required)."
        ),
    ] = None,
    label: Annotated[str | None, typer.Option("--label", help="Display label.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Define a custom record type with typed fields."""
    open_workspace()
    from kith.records.selectors import list_types
    from kith.records.services import define_type

    rtype = define_type(key=name, label=label, fields=field or [])
    view = next(t for t in list_types() if t["key"] == rtype.key)
    emit(
        view,
        as_json,
        lambda v: say(
            f"created type {v['key']} with fields "
            + (", ".join(f"{f['name']}:{f['kind']}" for f in v["fields"]) or "none")
        ),
    )


@type_app.command("field")
def type_field(
    name: Annotated[str, typer.Argument(help="Type name, e.g. person.")],
    spec: Annotated[
        str, typer.Argument(help="NAME:KIND (text number date choice:a|b email url bool).")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Add a typed field to an existing record type."""
    open_workspace()
    from kith.records.selectors import list_types
    from kith.records.services import add_field

    fdef = add_field(type_key=name, spec=spec)
    view = next(t for t in list_types() if t["key"] == fdef.record_type_id)
    emit(view, as_json, lambda v: say(f"added field {spec} to {v['key']}"))


@type_app.command("list")
def type_list(as_json: JsonOpt = False) -> None:
    """List record types and their fields."""
    open_workspace()
    from kith.records.selectors import list_types

    emit(
        list_types(),
        as_json,
        lambda rows: table(
            "record types",
            ["type", "label", "fields"],
            [
                (
                    t["key"],
                    t["label"],
                    ", ".join(
                        f"{f['name']}:{f['kind']}"
                        + (f"({'|'.join(f['choices'])})" if f["choices"] else "")
                        + ("!" if f["required"] else "")
                        for f in t["fields"]
                    ),
                )
                for t in rows
            ],
        ),
    )


@record_app.command("add")
def record_add(
    type_name: Annotated[str, typer.Argument(metavar="TYPE", help="Record type.")],
    name: Annotated[str, typer.Argument(help="Record name.")],
    field: Annotated[list[str] | None, typer.Option("--field", help="name=value.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a record of any type."""
    open_workspace()
    from kith.core.parse import parse_pairs
    from kith.records.services import add_record

    _created(
        add_record(type_key=type_name, name=name, fields=parse_pairs(field, option="--field")),
        as_json,
    )


def cmd_show(ref: Ref, as_json: JsonOpt = False) -> None:
    """Show a record: fields, contacts, current relationships, recent interactions."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.interactions.selectors import timeline
    from kith.records.selectors import record_view, resolve
    from kith.relationships.selectors import relations_view

    record = resolve(SYSTEM, ref, include_deleted=True)
    view = record_view(record)
    active = [r for r in relations_view(SYSTEM, record) if r["active"]]
    counts: dict[str, int] = {}
    for r in active:
        counts[r["label"]] = counts.get(r["label"], 0) + 1
    view["relationship_counts"] = counts
    # the newest few; `kith relations` lists them all
    view["relationships"] = sorted(active, key=lambda r: r["since"] or "", reverse=True)[:SHOWN]
    view["recent"] = timeline(SYSTEM, record, limit=10)

    def render(v: dict[str, Any]) -> None:
        say(f"{v['name']}  [{v['type']} {v['id']}]" + ("  (deleted)" if v["deleted_at"] else ""))
        for key in ("emails", "phones", "domains", "urls"):
            if v[key]:
                say(f"  {key}: {', '.join(v[key])}")
        for key, value in v["fields"].items():
            say(f"  {key}: {value}")
        if v["relationships"]:
            table(
                "relationships",
                ["id", "relation", "with", "role", "since"],
                [
                    (r["id"], r["label"], r["other"]["name"], r["role"], r["since"])
                    for r in v["relationships"]
                ],
            )
        if v["recent"]:
            table(
                "recent interactions",
                ["at", "kind", "subject", "with"],
                [
                    (
                        i["at"][:16],
                        i["kind"],
                        i["subject"],
                        ", ".join(p["name"] for p in i["participants"]),
                    )
                    for i in v["recent"]
                ],
            )

    emit(view, as_json, render)


def cmd_list(
    type_name: Annotated[str | None, typer.Option("--type", help="Only this record type.")] = None,
    search: Annotated[str | None, typer.Option("--search", help="Name or email contains.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many.")] = 0,
    deleted: Annotated[bool, typer.Option("--deleted", help="Include deleted records.")] = False,
    tag: Annotated[str | None, typer.Option("--tag", help="Only records with this tag.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List records."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.records.selectors import list_records

    rows = list_records(
        SYSTEM,
        type_key=type_name,
        search=search,
        limit=limit,
        offset=max(offset, 0),
        include_deleted=deleted,
        tag=tag,
    )
    emit(
        rows,
        as_json,
        lambda rs: table(
            None,
            ["id", "type", "name", "email / domain", "phone"],
            [
                (
                    r["id"],
                    r["type"],
                    r["name"] + (" (deleted)" if r["deleted"] else ""),
                    r["email"] or r["domain"],
                    r["phone"],
                )
                for r in rs
            ],
        ),
    )


def cmd_edit(
    ref: Ref,
    set_: Annotated[list[str], typer.Option("--set", help="name=value (empty value clears).")],
    version: Annotated[
        int | None,
        typer.Option("--version", help="Fail if the record is no longer at this version."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change fields of a record (name, email, phone, domain or typed fields)."""
    open_workspace()
    from kith.core.parse import parse_pairs
    from kith.records.selectors import record_view
    from kith.records.services import update_record

    record = update_record(
        ref=ref, values=parse_pairs(set_, option="--set"), expected_version=version
    )
    emit(
        record_view(record),
        as_json,
        lambda v: say(f"updated {v['name']} ({v['id']}), now version {v['version']}"),
    )


def cmd_delete(ref: Ref, as_json: JsonOpt = False) -> None:
    """Delete a record (soft: restore brings it back)."""
    open_workspace()
    from kith.records.selectors import record_summary
    from kith.records.services import delete_record

    emit(
        record_summary(delete_record(ref=ref)),
        as_json,
        lambda v: say(f"deleted {v['name']} ({v['id']}); kith restore {v['id']} undoes it"),
    )


def cmd_restore(ref: Ref, as_json: JsonOpt = False) -> None:
    """Restore a deleted record (or, given a backup file, a whole workspace)."""
    from kith.backup.files import is_backup_file

    if is_backup_file(ref):  # `kith restore FILE` = `kith backup restore FILE`
        from kith.backup.cli import restore_file

        restore_file(ref, as_json)
        return
    open_workspace()
    from kith.core.errors import NotFound, ValidationError
    from kith.records.selectors import record_summary
    from kith.records.services import restore_record

    try:
        restored = restore_record(ref=ref)
    except NotFound:
        from pathlib import Path

        if Path(ref).expanduser().is_file():  # a file, but not a backup
            raise ValidationError(
                f"ref: no record matches {ref!r}, and that file is not a Kith backup "
                "(kith backup FILE writes one)",
                field="ref",
            ) from None
        if "/" in ref:
            raise NotFound(
                f"ref: no record matches {ref!r}, and there is no backup file at that path",
                field="ref",
            ) from None
        raise
    emit(
        record_summary(restored),
        as_json,
        lambda v: say(f"restored {v['name']} ({v['id']})"),
    )


def cmd_search(
    text: Annotated[str, typer.Argument(help="Name, email, phone, domain or subject words.")],
    type_name: Annotated[str | None, typer.Option("--type", help="Only this record type.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1-1000).")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Search records, best match first (typos and interaction subjects included)."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.records.selectors import search_summaries

    rows = search_summaries(SYSTEM, text, limit=limit, type_key=type_name)
    if not rows and not as_json:
        say(f"no record matches {text.strip()!r}")
        return
    emit(
        rows,
        as_json,
        lambda rs: table(
            None,
            ["id", "type", "name", "email / domain", "phone"],
            [(r["id"], r["type"], r["name"], r["email"] or r["domain"], r["phone"]) for r in rs],
        ),
    )


TagArg = Annotated[str, typer.Argument(help="The tag (no commas, at most 40 characters).")]


def _said(verb: str, done: bool, record_id: str, tag: str, as_json: bool) -> None:
    from kith.core.viewer import SYSTEM
    from kith.records.selectors import record_detail, resolve

    view = record_detail(resolve(SYSTEM, record_id))
    out = {"id": view["id"], "name": view["name"], "tags": view["tags"], "changed": done}
    emit(
        out,
        as_json,
        lambda v: say(
            f"{verb} {tag!r} {'on' if verb == 'tagged' else 'from'} {v['name']} ({v['id']})"
            if done
            else f"{v['name']} ({v['id']}) {'already has' if verb == 'tagged' else 'has no'} "
            f"tag {tag!r}"
        ),
    )


@tag_app.command("add")
def tag_add(ref: Ref, tag: TagArg, as_json: JsonOpt = False) -> None:
    """Tag a record."""
    open_workspace()
    from kith.records.tags import add_tag

    record, added = add_tag(ref=ref, tag=tag)
    _said("tagged", added, record.id, " ".join(tag.split()), as_json)


@tag_app.command("remove")
def tag_remove(ref: Ref, tag: TagArg, as_json: JsonOpt = False) -> None:
    """Remove a tag from a record."""
    open_workspace()
    from kith.records.tags import remove_tag

    record, removed = remove_tag(ref=ref, tag=tag)
    _said("removed", removed, record.id, " ".join(tag.split()), as_json)


def cmd_tags(
    type_name: Annotated[str | None, typer.Option("--type", help="Only this record type.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every tag in use, with how many records carry it (most first)."""
    open_workspace()
    from kith.core.viewer import SYSTEM
    from kith.records.selectors import tag_counts

    rows = tag_counts(SYSTEM, type_key=type_name)
    if not rows and not as_json:
        say("no tags yet (kith tag add REF TAG)")
        return
    emit(
        rows,
        as_json,
        lambda rs: table(None, ["tag", "records"], [(r["tag"], r["count"]) for r in rs]),
    )


def register(app: typer.Typer) -> None:
    app.command("init")(cmd_init)
    app.add_typer(person_app, name="person")
    app.add_typer(org_app, name="org")
    app.add_typer(type_app, name="type")
    app.add_typer(record_app, name="record")
    app.command("show")(cmd_show)
    app.command("list")(cmd_list)
    app.command("search")(cmd_search)
    app.command("edit")(cmd_edit)
    app.command("delete")(cmd_delete)
    app.command("restore")(cmd_restore)
    app.add_typer(tag_app, name="tag")
    app.command("tags")(cmd_tags)
