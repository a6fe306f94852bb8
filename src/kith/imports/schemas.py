"""Response shapes of the imports API: the report of an import (or of its dry run)."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from kith.server.schemas import Out


class BadUnitOut(Out):
    where: str
    column: str
    value: str
    reason: str


class ImportReportOut(Out):
    """What an import did; formats add their own figures (columns, preset, ...)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    file: str
    format: str
    dry_run: bool
    units: int = Field(description="Rows, cards, events or messages read")
    imported: int
    bad_count: int
    bad: list[BadUnitOut]
    counts: dict[str, int]
    warnings: list[str]
    preset: str | None = None
    columns: dict[str, str] | None = None
    ignored_columns: list[str] | None = None
    created_ids: list[str] | None = None
    encoding: str | None = None
