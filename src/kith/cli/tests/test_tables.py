"""Tables on a terminal stay readable at 80 columns: ids and headers never wrap (issue 11)."""

from __future__ import annotations

import io

from rich.console import Console

from kith.cli.output import rich_table

WHY = (
    "last two-way contact 12 days ago, within the usual cadence of 7 days; only one of our "
    "people talks to Acme (Sam Seller)"
)


def _render(width: int) -> list[str]:
    rows = [
        (f"per_kb7r9tkrgm3{i}", "Jane Doe-Smithson of Example Holdings", "organization", 74, WHY)
        for i in range(3)
    ]
    buf = io.StringIO()
    Console(file=buf, width=width, force_terminal=False).print(
        rich_table("best", ["id", "name", "type", "health", "why"], rows)
    )
    return buf.getvalue().splitlines()


def test_ids_and_headers_stay_on_one_line_at_80_columns() -> None:
    lines = _render(80)
    assert all(len(line) <= 80 for line in lines)
    header = next(line for line in lines if "id" in line and "health" in line)
    for word in ("id", "name", "type", "health", "why"):
        assert f" {word} " in header
    text = "\n".join(lines)
    for i in range(3):
        assert f"per_kb7r9tkrgm3{i}" in text  # whole on one line, never folded
    assert "organization" in text
    # the long column folds at word boundaries instead
    assert sum("cadence" in line for line in lines) == 3


def test_a_wide_terminal_keeps_rows_on_one_line() -> None:
    lines = _render(240)
    assert sum("per_kb7r9tkrgm3" in line for line in lines) == 3
    assert len([line for line in lines if line.startswith("│")]) == 3  # one line a row
