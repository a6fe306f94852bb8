"""CLI: ``kith backup FILE`` (= ``kith backup create FILE``) and ``kith backup restore FILE``.

``kith restore FILE`` also restores when FILE is an existing backup file (see records' CLI).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from kith.cli.output import JsonOpt, emit, open_workspace, say

FileArg = Annotated[str, typer.Argument(help="The backup file (gzip-compressed JSON lines).")]


class _CreateByDefault(TyperGroup):
    """``kith backup FILE`` means ``kith backup create FILE``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        first = next((a for a in args if not a.startswith("-")), None)
        if first is not None and first not in self.commands:
            args = ["create", *args]
        return super().parse_args(ctx, args)


backup_app = typer.Typer(
    cls=_CreateByDefault,
    help="Back up the whole workspace to a file, or restore one into an empty workspace.",
    no_args_is_help=True,
)


@contextmanager
def _progress(total: int, as_json: bool, what: str) -> Iterator[Callable[[str, int], None] | None]:
    if as_json or not sys.stdout.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task(what, total=total)

        def advance(label: str, n: int) -> None:
            bar.update(task, advance=n, description=f"{what} {label}")

        yield advance


def _total_rows() -> int:
    from kith.backup.services import backup_models

    return sum(m._default_manager.count() for m in backup_models())


def _render(verb: str) -> Callable[[dict[str, Any]], None]:
    def render(r: dict[str, Any]) -> None:
        tables = sum(1 for n in r["tables"].values() if n)
        say(f"{verb} {r['rows']} rows in {tables} tables: {r['file']}")

    return render


@backup_app.command("create")
def backup_create(
    file: FileArg,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write every table of the workspace, history included, to FILE."""
    open_workspace()
    from kith.backup.services import create_backup

    with _progress(_total_rows() if sys.stdout.isatty() else 0, as_json, "backing up") as bar:
        result = create_backup(file, overwrite=force, progress=bar)

    def render(r: dict[str, Any]) -> None:
        _render("saved")(r)
        say(
            f"  mode {r['mode']}: only you can read it (it holds password hashes, API token "
            "digests and the server's signing secret); keep it that way"
        )

    emit(result, as_json, render)


@backup_app.command("restore")
def backup_restore(file: FileArg, as_json: JsonOpt = False) -> None:
    """Load FILE into this workspace, which must be empty: all of it or nothing."""
    restore_file(file, as_json)


def restore_file(file: str, as_json: bool) -> None:
    open_workspace()
    from kith.backup.services import read_header, restore_backup

    total = sum(read_header(file).get("tables", {}).values())
    with _progress(total, as_json, "restoring") as bar:
        result = restore_backup(file, progress=bar)
    emit(result, as_json, _render("restored"))


def register(app: typer.Typer) -> None:
    app.add_typer(backup_app, name="backup")
