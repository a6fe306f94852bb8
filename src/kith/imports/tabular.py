"""CSV and Excel contact sheets: header mapping, presets (Google, Outlook, LinkedIn,
HubSpot, Salesforce), delimiter sniffing, notes lines before the header."""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from kith.core.errors import ValidationError
from kith.imports.cells import read_cell
from kith.imports.items import MAX_FIELD, BadRow, RawRecord, Unit
from kith.imports.textio import open_text
from kith.imports.workbook import MAX_COLUMNS, check_workbook

csv.field_size_limit(1 << 24)  # long fields get our clear error, not csv's

PRESETS = ("google", "outlook", "linkedin", "hubspot", "salesforce")
HEADER_SCAN = 40  # rows looked at to find the header (LinkedIn puts notes first)


def norm_header(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", (text or "").lower()).split())


_EXACT = {
    "name": "name",
    "full name": "name",
    "display name": "name",
    "contact name": "name",
    "first name": "first",
    "firstname": "first",
    "given name": "first",
    "first": "first",
    "middle name": "middle",
    "additional name": "middle",
    "last name": "last",
    "lastname": "last",
    "family name": "last",
    "surname": "last",
    "last": "last",
    "name prefix": "prefix",
    "salutation": "prefix",
    "prefix": "prefix",
    "name suffix": "suffix",
    "suffix": "suffix",
    "nickname": "nickname",
    "company": "org",
    "company name": "org",
    "organization": "org",
    "organisation": "org",
    "organization name": "org",
    "organization 1 name": "org",
    "account name": "org",
    "associated company": "org",
    "employer": "org",
    "job title": "title",
    "title": "title",
    "organization title": "title",
    "organization 1 title": "title",
    "position": "title",
    "department": "department",
    "organization department": "department",
    "organization 1 department": "department",
    "website": "url",
    "web site": "url",
    "web page": "url",
    "web page 1": "url",
    "web page 2": "url",
    "website 1 value": "url",
    "website 2 value": "url",
    "url": "url",
    "homepage": "url",
    "linkedin": "field:linkedin",
    "linkedin url": "field:linkedin",
    "birthday": "birthday",
    "birthdate": "birthday",
    "anniversary": "anniversary",
    "wedding anniversary": "anniversary",
    "date of birth": "birthday",
    "notes": "note",
    "note": "note",
    "description": "note",
    "domain": "domain",
    "domains": "domain",
    "company domain": "domain",
    "company domain name": "domain",
    "type": "type",
    "record type": "type",
    "labels": "tag",
    "group membership": "tag",
    "categories": "tag",
    "tags": "tag",
    "uid": "uid",
}
_EMAIL = re.compile(
    r"^(?:(?:primary|secondary|home|work|other|business)\s)?e ?mail(?:\s\d+)?"
    r"(?:\s(?:address|value|home|work|other))?(?:\s\d+)?(?:\s(?:address|value))?$"
)
_PHONE = re.compile(r"\b(?:phone|mobile|telephone|tel|fax|pager|cell)\b")
_ADDRESS = re.compile(r"\b(?:street|city|state|zip|zipcode|postal|country|address|province)\b")
# Google's paired columns: the value, and its label ("Spouse", "Anniversary"), by number
_PAIRED = re.compile(r"^(relation|event) \d+ (label|value)$")
_IGNORED_WORDS = re.compile(r"\b(?:label|type|display|opt|yomi|phonetic|latitude|longitude)\b")

_PRESET_OVERRIDES: dict[str, dict[str, str | None]] = {
    "outlook": {"title": "prefix"},
    "linkedin": {"url": "field:linkedin", "connected on": None},
    "hubspot": {"record id": None, "contact owner": None},
    "salesforce": {"id": None, "accountid": None, "masterrecordid": None, "contact id": None},
    "google": {"file as": None},
}


def auto_target(header: str, field_names: Iterable[str] = ()) -> str | None:
    """The target a column feeds, from its header (None: ignored)."""
    if header.startswith("field:") and len(header) > 6:
        return "field:" + header[6:].strip().lower()
    key = norm_header(header)
    if not key:
        return None
    if key in _EXACT:
        return _EXACT[key]
    if m := _PAIRED.match(key):  # Google's "Relation 1 - Label", "Event 2 - Value"
        return m.group(1) + ("_label" if m.group(2) == "label" else "")
    slug = key.replace(" ", "_")
    if slug in set(field_names):
        return f"field:{slug}"
    if _IGNORED_WORDS.search(key):
        return None
    if "mail" in key and _EMAIL.match(key):
        return "email"
    if _PHONE.search(key):
        return "phone"
    if _ADDRESS.search(key) and "mail" not in key:
        return "address"
    return None


def detect_preset(headers: Sequence[str]) -> str | None:
    keys = {norm_header(h) for h in headers}
    if {"first name", "last name", "connected on"} <= keys:
        return "linkedin"
    if "e mail 1 value" in keys or {"given name", "group membership"} <= keys:
        return "google"
    if "record id" in keys and keys & {"contact owner", "associated company", "lead status"}:
        return "hubspot"
    if ("account name" in keys and keys & {"contact id", "mailing city"}) or {
        "accountid",
        "mailingcity",
    } <= keys:
        return "salesforce"
    if "e mail address" in keys and keys & {"job title", "business phone", "mobile phone"}:
        return "outlook"
    return None


def build_mapping(
    headers: Sequence[str],
    *,
    preset: str | None,
    overrides: dict[str, str],
    field_names: Iterable[str],
) -> list[str | None]:
    """One target per column: presets, then automatic, then ``--map`` overrides."""
    names = list(field_names)
    special = _PRESET_OVERRIDES.get(preset or "", {})
    lowered = {norm_header(k): v for k, v in overrides.items()}
    seen = {norm_header(h) for h in headers}
    for key in lowered:
        if key not in seen:
            raise ValidationError(
                f"--map: no column named {key!r} in the header ({', '.join(headers)[:300]})",
                field="map",
            )
    out: list[str | None] = []
    for h in headers:
        key = norm_header(h)
        if key in lowered:
            out.append(lowered[key] or None)
        elif key in special:
            out.append(special[key])
        else:
            out.append(auto_target(h, names))
    # Google writes each address whole ("Address 1 - Formatted") and in parts (Street,
    # City, ...): with the whole one there, the parts would store it a second time
    formatted = {m.group(1) for k in seen if (m := _FORMATTED.match(k))}
    for i, h in enumerate(headers):
        part = _ADDRESS_PART.match(norm_header(h))
        if part and part.group(1) in formatted and out[i] == "address":
            out[i] = None
    return out


_FORMATTED = re.compile(r"^address (\d+) formatted$")
_ADDRESS_PART = re.compile(r"^address (\d+) (?!formatted$)")


def _is_header(row: Sequence[str], names: Iterable[str]) -> bool:
    targets = [auto_target(c, names) for c in row if c.strip()]
    if not targets:
        return False
    mapped = [t for t in targets if t]
    has_id = any(t in {"name", "first", "last", "email", "org"} for t in mapped)
    no_data = not any("@" in c for c in row)
    return has_id and no_data and len(mapped) * 2 >= min(len(targets), 6)


def _delimiter(sample: str) -> str:
    lines = [ln for ln in sample.splitlines()[:HEADER_SCAN] if ln.strip()]
    best, score = ",", 0
    for delim in (",", ";", "\t", "|"):
        counts = [ln.count(delim) for ln in lines]
        top = max(counts) if counts else 0
        if top > score:
            best, score = delim, top
    return best


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Sheet:
    """Rows of a CSV or XLSX file with their line (or row) numbers, header located."""

    def __init__(self, rows: Iterator[tuple[int, list[str]]], label: str, name: str) -> None:
        self.rows = rows
        self.label = label  # "line" or "row"
        self.name = name
        self.headers: list[str] = []
        self.preamble: list[list[str]] = []
        self.encoding: str | None = None  # of a CSV file: as detected, told in the report

    def find_header(self, names: Iterable[str], mapped: Iterable[str] = ()) -> None:
        names = list(names)
        wanted = {norm_header(m) for m in mapped}
        for _ in range(HEADER_SCAN):
            try:
                _, row = next(self.rows)
            except StopIteration:
                break
            if _is_header(row, names) or (wanted and wanted <= {norm_header(c) for c in row}):
                self.headers = [c.strip() for c in row]
                return
            self.preamble.append(row)
        if not self.preamble or not any(any(c.strip() for c in r) for r in self.preamble):
            raise ValidationError(f"{self.name}: the file has no rows", field="file")
        raise ValidationError(
            f"{self.name}: no header row found; the first line must name the columns "
            "(e.g. Name,Email,Phone,Company,Title)",
            field="file",
        )


def _undecodable_line(path: str, enc: str) -> int | None:
    """The first physical line of ``path`` that is not ``enc`` text (None for UTF-16,
    whose characters may hold a newline byte)."""
    if enc.startswith("utf-16"):
        return None
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                raw.decode(enc)
            except UnicodeDecodeError:
                return number
    return None


def csv_sheet(path: str, *, name: str) -> Sheet:
    fh, enc = open_text(path, name=name)
    sample = fh.read(65536)  # type: ignore[attr-defined]
    fh.seek(0)  # type: ignore[attr-defined]
    # strict: a quote never closed is an error at the line it opened on, not one junk row
    # holding the rest of the file (the lenient reader reads on to the end)
    reader = csv.reader(fh, delimiter=_delimiter(sample), strict=True)  # type: ignore[arg-type]

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = 1
        try:
            for row in reader:
                if len(row) > MAX_COLUMNS:
                    raise ValidationError(
                        f"{name}: line {start} has {len(row):,} columns; at most "
                        f"{MAX_COLUMNS:,} are read (is the delimiter right?)",
                        field="file",
                    )
                yield start, row
                start = reader.line_num + 1
        except UnicodeDecodeError as exc:
            line = _undecodable_line(path, enc) or start  # text is decoded ahead, in blocks
            raise ValidationError(
                f"{name}: line {line}: bytes that are not {enc} text ({exc.reason}); "
                "nothing imported (save the file as UTF-8)",
                field="file",
            ) from None
        except csv.Error as exc:
            why = str(exc)
            if why == "unexpected end of data":
                why = 'a quoted field opened here is never closed (a missing ")'
            raise ValidationError(
                f"{name}: line {start}: {why}; nothing imported", field="file"
            ) from None
        finally:
            fh.close()  # type: ignore[attr-defined]

    sheet = Sheet(rows(), "line", name)
    sheet.encoding = enc
    return sheet


def xlsx_sheet(path: str, *, name: str) -> Sheet:
    from openpyxl import load_workbook  # noqa: PLC0415 - openpyxl costs 125 ms to import
    from openpyxl.utils.exceptions import InvalidFileException  # noqa: PLC0415 - openpyxl costs 125 ms to import

    # a file object, not the path: openpyxl judges a path by its extension, and
    # `--format xlsx` may be given a workbook of any name (or a file that is none)
    fh = open(path, "rb")  # noqa: SIM115 - closed with the workbook, after the last row
    try:
        check_workbook(fh, name=name)
    except ValidationError:
        fh.close()
        raise
    try:
        wb = load_workbook(fh, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        fh.close()
        raise ValidationError(
            f"{name}: not a readable .xlsx workbook ({exc})", field="file"
        ) from None
    ws = wb.worksheets[0] if wb.worksheets else None
    if ws is None:
        wb.close()
        fh.close()
        raise ValidationError(f"{name}: the workbook has no sheets", field="file")

    # rows as stored, not padded to the sheet's declared size (a forged <dimension> of
    # A1:XFD1048576 would make every row 16,384 cells)
    ws.reset_dimensions()

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
                yield n, [cell(v) for v in row]
        finally:
            wb.close()
            fh.close()

    return Sheet(rows(), "row", name)


def read_units(
    sheet: Sheet,
    *,
    preset: str | None,
    overrides: dict[str, str],
    field_names: Iterable[str],
    report: dict[str, Any],
) -> Iterator[Unit]:
    """Yield one unit per data row; report the preset and mapped/ignored columns."""
    names = list(field_names)
    sheet.find_header(names, overrides)
    headers = sheet.headers
    preset = preset or detect_preset(headers)
    mapping = build_mapping(headers, preset=preset, overrides=overrides, field_names=names)
    report["preset"] = preset or "generic"
    report["columns"] = {h: t for h, t in zip(headers, mapping, strict=True) if t}
    report["ignored_columns"] = [h for h, t in zip(headers, mapping, strict=True) if not t and h]
    report["header"] = headers
    if sheet.encoding:
        report["encoding"] = sheet.encoding
    for start, row in sheet.rows:
        if not any(c.strip() for c in row):
            continue
        where = f"{sheet.label} {start}"
        unit = Unit(where=where, raw=row)
        if len(row) > len(headers) and any(c.strip() for c in row[len(headers) :]):
            unit.error = BadRow(
                where, f"{len(row)} cells but the header has {len(headers)} columns"
            )
            yield unit
            continue
        rec = RawRecord()
        for header, target, value in zip(headers, mapping, row, strict=False):
            if len(value) > MAX_FIELD:
                unit.error = BadRow(
                    where, f"longer than {MAX_FIELD:,} characters", header, value[:60]
                )
                break
            if target:
                rec.add(target, header, read_cell(value.strip()))
        unit.record = rec
        yield unit


def encoding_note(report: dict[str, Any]) -> list[str]:
    """The warning that a CSV was not UTF-8 and which encoding it was read as (every
    interface shows the report's warnings), or nothing."""
    enc = str(report.get("encoding") or "")
    if not enc or enc.startswith(("utf-8", "utf-16")):
        return []
    return [f"read as {enc} text: the file is not UTF-8 (check accented names)"]
