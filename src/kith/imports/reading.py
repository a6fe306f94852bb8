"""Reading an import file into units (rows, cards, events, messages), lazily and in
chunks: what an import writes and what a check of the file reports are read alike."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Generator, Iterator
from typing import Any

from kith.core.errors import ValidationError
from kith.imports import ical, mail, readahead, tabular, textio, vcard
from kith.imports.items import BadRow, RawRecord, Unit
from kith.imports.mail import maildir_files
from kith.imports.validate import FieldSpecs

CHUNK = 2_000
MAX_LISTED = 200  # bad units listed in the report (all are counted)
UNIT_NOUN = {"ics": "event", "mbox": "message", "maildir": "message", "eml": "message",
             "vcard": "card", "json": "record"}  # fmt: skip


_MAP_TARGETS = {
    "name": "name", "full_name": "name", "first": "first", "first_name": "first",
    "given_name": "first", "middle": "middle", "last": "last", "last_name": "last",
    "surname": "last", "email": "email", "phone": "phone", "mobile": "phone", "org": "org",
    "company": "org", "organization": "org", "organisation": "org", "title": "title",
    "job_title": "title", "role": "title", "url": "url", "website_url": "url",
    "domain": "domain", "note": "note", "notes": "note", "birthday": "birthday",
    "address": "address", "type": "type", "department": "department", "ignore": "",
    "skip": "", "": "",
}  # fmt: skip


def parse_map(items: list[str], specs: FieldSpecs) -> dict[str, str]:
    """``["Column=field", ...]`` -> {column: target}; fields of any record type allowed."""
    out: dict[str, str] = {}
    fields = {n for t in specs.defs for n in specs.defs[t]}
    for item in items:
        column, sep, target = item.rpartition("=")
        if not sep or not column.strip():
            raise ValidationError(f"--map: {item!r} is not of the form 'Column=field'", field="map")
        key = target.strip().lower().replace(" ", "_").replace("-", "_")
        if key.startswith("field:"):
            key = key[6:]
        if key in _MAP_TARGETS and key not in fields - {"title", "birthday"}:
            out[column.strip()] = _MAP_TARGETS[key]
        elif key in fields:
            out[column.strip()] = f"field:{key}"
        else:
            known = ", ".join(sorted({k for k in _MAP_TARGETS if k} | fields))
            raise ValidationError(f"--map: {target!r} is not a field (known: {known})", field="map")
    return out


def _json_units(path: str, name: str) -> Iterator[Unit]:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            data = json.load(fh)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{name}: not valid JSON ({exc})", field="file") from None
    items = data.get("records") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValidationError(
            f'{name}: expected a list of records or {{"records": [...]}}', field="file"
        )
    for index, item in enumerate(items, start=1):
        where = f"record {index}"
        unit = Unit(where=where, raw=item)
        if not isinstance(item, dict):
            unit.error = BadRow(where, "not a JSON object")
            yield unit
            continue
        rec = RawRecord()
        rec.add("type", "type", item.get("type") or "person")
        rec.add("name", "name", item.get("name"))
        for key, target in (
            ("emails", "email"),
            ("phones", "phone"),
            ("domains", "domain"),
            ("urls", "url"),
        ):
            for value in item.get(key) or []:
                rec.add(target, key, value)
        rec.add("org", "org", item.get("org"))
        rec.add("title", "title", item.get("title"))
        for key, value in (item.get("fields") or {}).items():
            rec.add(f"field:{key}", f"fields.{key}", value)
        for rel in item.get("related") or []:
            if isinstance(rel, dict):
                rec.add(f"related:{rel.get('type', '')}", "related", rel.get("to"))
        rec.add("uid", "id", item.get("id"))
        unit.record = rec
        yield unit


def units(
    fmt: str,
    path: str,
    name: str,
    specs: FieldSpecs,
    mapping: dict[str, str],
    bodies: bool,
    report: dict[str, Any],
) -> Iterator[Unit]:

    if fmt in ("csv", "xlsx", *tabular.PRESETS):
        sheet = (tabular.xlsx_sheet if fmt == "xlsx" else tabular.csv_sheet)(path, name=name)
        preset = fmt if fmt in tabular.PRESETS else None
        yield from tabular.read_units(
            sheet,
            preset=preset,
            overrides=mapping,
            field_names=specs.names("person"),
            report=report,
        )
    elif fmt == "vcard":
        with open(path, "rb") as fh:
            text = textio.decode(fh.read(), name=name)
        if "BEGIN:VCARD" not in text.upper():
            raise ValidationError(f"{name}: no BEGIN:VCARD in the file", field="file")
        yield from vcard.card_units(text)
    elif fmt == "ics":
        with open(path, "rb") as fh:
            text = textio.decode(fh.read(), name=name)
        yield from ical.calendar_units(text, bodies=bodies)
    elif fmt == "mbox":
        yield from mail.mbox_units(path, bodies=bodies)
    elif fmt == "maildir":
        if not os.path.isdir(path):
            raise ValidationError(f"{name}: a Maildir is a folder, not a file", field="file")
        yield from mail.maildir_units(path, bodies=bodies)
    elif fmt == "eml":
        yield from mail.eml_units(path, bodies=bodies)
    elif fmt == "json":
        yield from _json_units(path, name)
    else:
        raise ValidationError(f"{name}: Kith cannot read {fmt} files", field="file")


def unit_chunks(
    fmt: str,
    path: str,
    name: str,
    specs: FieldSpecs,
    mapping: dict[str, str],
    bodies: bool,
    report: dict[str, Any],
) -> Generator[list[Unit], None, None]:
    """The units in lists of CHUNK; a big mbox is parsed ahead by a helper process."""

    big = os.path.isfile(path) and os.path.getsize(path) >= readahead.READ_AHEAD_BYTES
    if fmt == "mbox" and big:
        yield from readahead.mbox_chunks(path, bodies=bodies, size=CHUNK)
        return
    stream = units(fmt, path, name, specs, mapping, bodies, report)
    while chunk := list(itertools.islice(stream, CHUNK)):
        yield chunk


def estimate_total(path: str, fmt: str) -> int | None:
    """A quick count of units for the progress bar (lines, cards, messages)."""
    if fmt == "maildir":
        return sum(1 for _ in maildir_files(path))
    if fmt in ("xlsx", "json", "ics", "eml") or not os.path.isfile(path):
        return None
    needle = {"mbox": b"\nFrom ", "vcard": b"END:VCARD"}.get(fmt, b"\n")
    count = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            count += block.count(needle)
    return count
