"""Reasons a higher app adds to one record's health (``kith health REF`` and its page),
without intelligence importing it: a note source is a function of the viewer, the record
and the as-of day returning plain sentences (``kith.surveys`` registers the coverage of
its key people: "only 2 of 6 key people answered a survey in the last 12 months").
Asked only for one record at a time, never by the bulk computation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from kith.core.viewer import Viewer
from kith.records.models import Record

NoteSource = Callable[[Viewer, Record, dt.date], list[str]]
_SOURCES: list[NoteSource] = []


def register(fn: NoteSource) -> None:
    """Add a note source (once)."""
    if all(f is not fn for f in _SOURCES):
        _SOURCES.append(fn)


def notes(viewer: Viewer, record: Record, day: dt.date) -> list[str]:
    """Every registered source's sentences for ``record`` on ``day``, in order."""
    out: list[str] = []
    for fn in _SOURCES:
        out += [n for n in fn(viewer, record, day) if n not in out]
    return out
