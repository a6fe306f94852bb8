"""Bounds on an Excel workbook, checked by streaming its XML before openpyxl reads it.

openpyxl's read-only mode still builds each row whole and loads every shared string at
once, so a 334 KB workbook holding one row of 3,000,000 cells took 2.8 GB. This pass reads
the first sheet and every other XML part openpyxl loads (the shared-string table ...)
through expat in small chunks, in constant
memory, and stops at the first limit crossed, naming it; a document type declaration
(the vehicle of entity-expansion bombs) is refused outright.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable
from typing import IO, Any
from xml.parsers import expat

from kith.core.errors import ValidationError

MAX_COLUMNS = 1_000  # cells in one row (no contact sheet has more columns)
MAX_ROWS = 1_048_576  # Excel's own limit; rows beyond it (or empty ones past it) are refused
MAX_SHEET_XML = 1 << 30  # bytes of the first sheet's XML, uncompressed
MAX_PART_XML = 128 << 20  # bytes of any other part read (the shared strings ...), uncompressed
CHUNK = 1 << 16

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class _Stop(Exception):
    """A limit was crossed; carries the user's message."""


def _parse(
    fh: IO[bytes],
    *,
    budget: int,
    what: str,
    start: Callable[[str, dict[str, str]], None] | None = None,
) -> None:
    """Feed ``fh`` to expat in chunks, refusing DTDs and more than ``budget`` bytes."""
    parser = expat.ParserCreate(namespace_separator=" ")

    def doctype(*_: Any) -> None:
        raise _Stop(f"its {what} declares a document type (refused: a possible XML bomb)")

    def entity(*_: Any) -> None:
        raise _Stop(f"its {what} declares entities (refused: a possible XML bomb)")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    if start is not None:
        parser.StartElementHandler = start
    seen = 0
    while chunk := fh.read(CHUNK):
        seen += len(chunk)
        if seen > budget:
            raise _Stop(f"its {what} is larger than {budget >> 20:,} MB uncompressed")
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _first_sheet(zf: zipfile.ZipFile) -> str | None:
    """The path of the workbook's first sheet, as openpyxl picks it."""
    names = set(zf.namelist())
    if "xl/workbook.xml" not in names:
        return None
    first: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == f"{_MAIN_NS} sheet" and not first:
            first.append(attrs.get(f"{_REL_NS} id", ""))

    with zf.open("xl/workbook.xml") as fh:
        _parse(fh, budget=16 << 20, what="workbook part", start=start)
    if not first:
        return None
    targets: dict[str, str] = {}

    def rel(tag: str, attrs: dict[str, str]) -> None:
        if tag.endswith(" Relationship") or tag == "Relationship":
            targets[attrs.get("Id", "")] = attrs.get("Target", "")

    if "xl/_rels/workbook.xml.rels" in names:
        with zf.open("xl/_rels/workbook.xml.rels") as fh:
            _parse(fh, budget=16 << 20, what="workbook relationships", start=rel)
    target = targets.get(first[0], "")
    if not target:
        return None
    path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
    path = posixpath.normpath(path)
    return path if path in names else None


_COLUMN = re.compile(r"[A-Z]+")


def _column_number(ref: str) -> int:
    m = _COLUMN.match(ref)
    n = 0
    for ch in m.group(0) if m else "":
        n = n * 26 + ord(ch) - 64
    return n


def check_workbook(fh: IO[bytes], *, name: str) -> None:
    """Refuse a workbook whose first sheet or another part it reads crosses Kith's bounds."""
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip: openpyxl gives its own clear error
    try:
        sheet = _first_sheet(zf)
        for info in zf.infolist():
            name_ = info.filename
            in_sheets = name_.startswith("xl/worksheets/") and name_.endswith(".xml")
            if info.filename == sheet or (sheet is None and in_sheets):
                _check_sheet(zf, info)
            elif in_sheets:
                continue  # the other sheets are never read
            elif info.filename.endswith((".xml", ".rels")):
                _check_part(zf, info)
    except _Stop as stop:
        raise ValidationError(f"{name}: not imported: {stop}", field="file") from None
    except (expat.ExpatError, zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
        raise ValidationError(
            f"{name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})", field="file"
        ) from None
    finally:
        zf.close()
        fh.seek(0)


def _check_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Any other XML part openpyxl reads (shared strings, styles ...): bounded, no DTD."""
    what = "shared strings" if "sharedstrings" in info.filename.lower() else info.filename
    if info.file_size > MAX_PART_XML:
        raise _Stop(f"its {what} is larger than {MAX_PART_XML >> 20:,} MB uncompressed")
    with zf.open(info) as fh:
        _parse(fh, budget=MAX_PART_XML, what=what)


def _check_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    state = {"rows": 0, "cells": 0, "row": 0}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == f"{_MAIN_NS} row":
            state["rows"] += 1
            state["cells"] = 0
            try:
                state["row"] = int(attrs.get("r") or state["row"] + 1)
            except ValueError:
                state["row"] += 1
            if state["rows"] > MAX_ROWS or state["row"] > MAX_ROWS:
                raise _Stop(f"its first sheet has more than {MAX_ROWS:,} rows")
        elif tag == f"{_MAIN_NS} c":
            state["cells"] += 1
            column = _column_number(attrs.get("r", "")) or state["cells"]
            if state["cells"] > MAX_COLUMNS or column > MAX_COLUMNS:
                raise _Stop(
                    f"row {state['row']} of its first sheet has more than {MAX_COLUMNS:,} columns"
                )

    if info.file_size > MAX_SHEET_XML:
        raise _Stop(f"its first sheet is larger than {MAX_SHEET_XML >> 20:,} MB uncompressed")
    with zf.open(info) as fh:
        _parse(fh, budget=MAX_SHEET_XML, what="first sheet", start=start)
