"""Shared CLI plumbing: the ``--json`` option, JSON and Rich output, workspace opening.

On a terminal, text goes through Rich (tables drawn in boxes, wrapped to the width). Into a
pipe or a file it is plain lines, a table's columns padded with spaces: nothing there to
draw, and not importing Rich is a good part of a short command's run time.
"""

from __future__ import annotations

import functools
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


@functools.cache
def console(stderr: bool = False) -> Any:
    """One Rich console per stream for the whole run (it writes to the sys.stdout or
    sys.stderr of the moment, so a replaced stream is followed)."""
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


def _plain() -> bool:
    """Whether stdout is not a terminal (a pipe, a file, a test's capture)."""
    try:
        return not sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return True


def _cell(value: Any) -> str:
    return "" if value is None else " ".join(str(value).splitlines())


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    if _plain():
        cells = [list(columns), *([_cell(v) for v in row] for row in rows)]
        widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
        lines = [title] if title else []
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                  for r in cells]  # fmt: skip
        sys.stdout.write("\n".join(lines) + "\n")
        return
    console().print(rich_table(title, columns, rows))


SHORT_CELL = 24  # a column whose cells are all this short (ids, numbers, bands, dates) never wraps


def rich_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Any:
    """A Rich table that stays readable at 80 columns: headers and short columns (ids,
    numbers, bands, dates) keep their width and never wrap; the long text columns share the
    rest, folding at word boundaries."""
    from rich.table import Table

    cells = [[_cell(v) for v in row] for row in rows]
    t = Table(title=title, title_justify="left", show_lines=False)
    for i, col in enumerate(columns):
        width = max([len(col), *(len(r[i]) for r in cells)])
        if width <= SHORT_CELL:
            t.add_column(col, no_wrap=True, min_width=width)
        else:
            t.add_column(col, overflow="fold", min_width=max(len(col), 18), ratio=1)
    for row in cells:
        t.add_row(*row)
    return t


def error(message: str) -> None:
    """Print ``error: MESSAGE`` to stderr as one line, however long (never wrapped)."""
    from rich.markup import escape

    console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def say(text: str) -> None:
    if _plain():
        sys.stdout.write(text + "\n")
        return
    from rich.markup import escape

    console().print(escape(text))
