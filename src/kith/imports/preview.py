"""Preview of an import: the detected format and preset, the column mapping and a few
sample units, read from the start of the file only (nothing is written).

Used by the web app's import page; ``import_file(dry_run=True)`` checks every row.
"""

from __future__ import annotations

import itertools
from typing import Any

from kith.core.errors import KithError, ValidationError
from kith.imports import detect as detecting
from kith.imports import reading, tabular
from kith.imports.items import Unit
from kith.imports.validate import FieldSpecs

# What a column can feed, as ``--map`` values (``parse_map`` accepts each), with a label.
MAP_CHOICES: list[tuple[str, str]] = [
    ("ignore", "Do not import"),
    ("name", "Full name"),
    ("first", "First name"),
    ("middle", "Middle name"),
    ("last", "Last name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("org", "Organisation"),
    ("title", "Job title"),
    ("department", "Department"),
    ("url", "Web address"),
    ("domain", "Web domain (organisations)"),
    ("address", "Address"),
    ("birthday", "Birthday"),
    ("note", "Notes"),
    ("type", "Record type"),
]
_SPECIAL_FIELDS = {"title", "birthday", "notes"}  # fed by the targets above
_DETECTED_ONLY = {  # targets the reader finds by itself that --map cannot name
    "prefix": "Name prefix",
    "suffix": "Name suffix",
    "nickname": "Nickname",
    "uid": "Unique id",
}


def map_key(target: str | None) -> str:
    """The ``--map`` value that selects ``target`` (a reader's target; None: ignored)."""
    if not target:
        return "ignore"
    return target[6:] if target.startswith("field:") else target


def choices(field_names: list[str]) -> list[tuple[str, str]]:
    """Every ``--map`` value a column may take here: built-in targets, then fields."""
    known = {k for k, _ in MAP_CHOICES}
    extra = sorted(set(field_names) - _SPECIAL_FIELDS - known)
    return [*MAP_CHOICES, *[(f, f"Field: {f}") for f in extra]]


def target_label(target: str | None) -> str:
    key = map_key(target)
    for value, label in MAP_CHOICES:
        if value == key:
            return label
    return _DETECTED_ONLY.get(key, f"Field: {key}")


def _summary(unit: Unit) -> str:
    if unit.error is not None:
        return unit.error.line()
    if unit.record is not None:
        values: dict[str, list[str]] = {}
        for target, _, value in unit.record.values:
            values.setdefault(target, []).append(value.strip())
        name = " ".join(values.get("name", [])) or " ".join(
            v for k in ("first", "middle", "last") for v in values.get(k, [])
        )
        extra = [*values.get("email", [])[:1], *values.get("org", [])[:1]]
        return " · ".join(p for p in [name or "(no name)", *extra] if p)
    parts = []
    for item in unit.interactions[:1]:
        who = len(item.people)
        parts.append(
            f"{item.kind} {item.at:%Y-%m-%d %H:%M} {item.subject or '(no subject)'}"
            f" ({who} {'person' if who == 1 else 'people'})"
        )
    return " · ".join(parts) or "(nothing to import)"


def _tabular(
    path: str, name: str, fmt: str, overrides: dict[str, str], names: list[str], sample: int
) -> dict[str, Any]:
    sheet = (tabular.xlsx_sheet if fmt == "xlsx" else tabular.csv_sheet)(path, name=name)
    rows: list[dict[str, Any]] = []
    try:
        sheet.find_header(names, overrides)
        for start, row in sheet.rows:
            if any(c.strip() for c in row):
                rows.append({"where": f"{sheet.label} {start}", "cells": row})
            if len(rows) >= sample:
                break
    finally:
        close = getattr(sheet.rows, "close", None)
        if close is not None:
            close()
    headers = sheet.headers
    preset = fmt if fmt in tabular.PRESETS else tabular.detect_preset(headers)
    detected = tabular.build_mapping(headers, preset=preset, overrides={}, field_names=names)
    chosen = tabular.build_mapping(headers, preset=preset, overrides=overrides, field_names=names)
    columns = []
    for i, header in enumerate(headers):
        columns.append(
            {
                "index": i,
                "header": header,
                "detected": map_key(detected[i]),
                "detected_label": target_label(detected[i]),
                "key": map_key(chosen[i]),
                "label": target_label(chosen[i]),
                "samples": [r["cells"][i] for r in rows if i < len(r["cells"])],
            }
        )
    return {
        "tabular": True,
        "preset": preset or "generic",
        "columns": columns,
        "rows": rows,
        "units": [],
    }


def preview(
    *, path: str, fmt: str | None = None, mapping: list[str] | None = None, sample: int = 5
) -> dict[str, Any]:
    """What an import of ``path`` would read: format, preset, mapping and sample units."""
    name = detecting.check_path(path)
    fmt = detecting.normalize_format(fmt) if fmt else detecting.detect(path)
    if fmt == "zip":
        raise ValidationError(
            f"{name}: a zip archive; unpack it and import the files inside", field="file"
        )
    specs = FieldSpecs()
    names = sorted({n for t in ("person", "organization") for n in specs.names(t)})
    out: dict[str, Any] = {
        "file": name,
        "format": fmt,
        "choices": choices(names),
        "estimate": None,
    }
    try:
        overrides = reading.parse_map(mapping or [], specs)
        if fmt in ("csv", "xlsx", *tabular.PRESETS):
            out.update(_tabular(path, name, fmt, overrides, specs.names("person"), sample))
        else:
            stream = reading.units(fmt, path, name, specs, {}, False, {})
            units = list(itertools.islice(stream, sample))
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            if not units:
                raise ValidationError(
                    f"{name}: nothing to import (no cards, events or messages found)",
                    field="file",
                )
            out.update(
                tabular=False,
                preset=None,
                columns=[],
                rows=[],
                units=[{"where": u.where, "summary": _summary(u)} for u in units],
            )
        out["estimate"] = reading.estimate_total(path, fmt)
    except KithError as exc:
        msg = exc.message if exc.message.startswith(name) else f"{name}: {exc.message}"
        raise ValidationError(msg, field=exc.field or "file") from None
    except (OSError, UnicodeError, ValueError, LookupError, RuntimeError) as exc:
        raise ValidationError(
            f"{name}: could not be read ({type(exc).__name__}: {exc})", field="file"
        ) from None
    return out
