"""CLI: kith bulk ACTION — one action on every record of a list, a saved view or some ids."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kith.cli.output import JsonOpt, emit, open_workspace, say

ACTIONS = "tag, untag, owner, set, delete or export"


def cmd_bulk(
    action: Annotated[str, typer.Argument(help=f"What to do: {ACTIONS}.")],
    value: Annotated[
        str, typer.Argument(help="The tag, the owner's email, or the field's value.")
    ] = "",
    type_name: Annotated[str, typer.Option("--type", help="The list's record type.")] = "person",
    search: Annotated[str | None, typer.Option("--search", help="Name or contact search.")] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only records with this tag.")] = None,
    org: Annotated[str | None, typer.Option("--org", help="People at this organisation.")] = None,
    view: Annotated[
        str | None, typer.Option("--view", help="A saved view's name instead of filters.")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Act as this user (what they may see).")
    ] = None,
    ids: Annotated[
        list[str] | None, typer.Option("--id", help="Only these records of the list.")
    ] = None,
    field: Annotated[str, typer.Option("--field", help="The field 'set' writes.")] = "",
    fmt: Annotated[str, typer.Option("--format", help="export: csv, vcard or xlsx.")] = "csv",
    out: Annotated[
        str | None, typer.Option("--out", help="export: write to this file (xlsx needs one).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Tag, untag, set the owner or a field, delete or export every record of a list (its
    filters, or a saved view), or only --id ones of it; all or nothing."""
    open_workspace()
    from kith.accounts.selectors import get_user, viewer_of
    from kith.core.errors import ValidationError
    from kith.core.viewer import SYSTEM
    from kith.lists import exports
    from kith.lists.services import bulk_action
    from kith.metrics.selectors import find_view

    who = SYSTEM if user is None else viewer_of(get_user(user, field="user"))
    params: dict[str, list[str]] = {}
    for key, given in (("q", search), ("tag", tag), ("org", org)):
        if given is not None:
            params[key] = [given]
    type_key = type_name
    if view is not None:
        if params:
            raise ValidationError("--view: give a saved view or filters, not both", field="view")
        saved = find_view(who, view)
        type_key, params = saved.type_key, dict(saved.query)
    if action == "export":
        fmt = fmt.strip().lower()
        if fmt == "xlsx":
            if not out:
                raise ValidationError("--out: an xlsx export needs a file to write", field="out")
            data, n = exports.export_xlsx(who, type_key, params, ids=ids)
            with data, open(out, "wb") as fh:
                fh.write(data.read())
            emit({"file": out, "records": n}, as_json, lambda d: say(f"exported {n} to {out}"))
            return
        else:
            if fmt not in exports.EXPORT_FORMATS:
                raise ValidationError(
                    f"--format: {fmt!r} is not one of csv, vcard, xlsx", field="format"
                )
            chunks = exports.export_chunks(who, type_key, params, fmt=fmt, ids=ids)
            if out:
                with open(out, "w", encoding="utf-8", newline="") as fh:
                    fh.writelines(chunks)
                emit({"file": out}, as_json, lambda d: say(f"exported to {out}"))
            else:
                sys.stdout.writelines(chunks)  # the export is the output
        return
    done = bulk_action(
        viewer=who,
        type_key=type_key,
        params=params,
        action=action,
        ids=ids,
        value=value,
        field=field,
    )
    emit(
        done,
        as_json,
        lambda d: say(f"{d['action']}: {d['records']} {d['type']} records, {d['changed']} changed"),
    )


def register(app: typer.Typer) -> None:
    app.command("bulk")(cmd_bulk)
