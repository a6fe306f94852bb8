"""Shared CLI plumbing: the ``--json`` option, JSON and Rich output, workspace opening."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

_db_url: str | None = None


def set_db(url: str | None) -> None:
    global _db_url
    _db_url = url


def open_workspace() -> None:
    """Configure Django on the chosen database; cheap when already up to date."""
    from kith.bootstrap import setup

    setup(_db_url)


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON, or through ``render`` for people."""
    if as_json:
        print_json(data)
    else:
        render(data)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table

    t = Table(title=title, title_justify="left", show_lines=False)
    for col in columns:
        t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(*["" if v is None else str(v) for v in row])
    console().print(t)


def error(message: str) -> None:
    """Print ``error: MESSAGE`` to stderr as one line, however long (never wrapped)."""
    from rich.markup import escape

    console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def say(text: str) -> None:
    from rich.markup import escape

    console().print(escape(text))
