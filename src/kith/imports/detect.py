"""Which format a file is in: from --format, the extension, then the content."""

from __future__ import annotations

import os
import re
from pathlib import Path

from kith.core.errors import NotFound, ValidationError
from kith.imports.tabular import PRESETS
from kith.imports.textio import looks_binary, sniff_encoding

FORMATS = ("csv", "xlsx", "vcard", "ics", "mbox", "maildir", "eml", "json", *PRESETS)
_EXT = {
    ".csv": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".vcf": "vcard",
    ".vcard": "vcard",
    ".ics": "ics",
    ".ical": "ics",
    ".ifb": "ics",
    ".mbox": "mbox",
    ".mbx": "mbox",
    ".eml": "eml",
    ".json": "json",
}
_ALIASES = {"vcf": "vcard", "ical": "ics", "icalendar": "ics", "excel": "xlsx", "email": "eml"}
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]?\S?")


def check_path(path: str) -> str:
    name = Path(path).name or path
    if not os.path.exists(path):
        raise NotFound(f"file: {path!r} does not exist", field="file")
    return name


def normalize_format(fmt: str) -> str:
    key = _ALIASES.get(fmt.strip().lower(), fmt.strip().lower())
    if key not in FORMATS:
        raise ValidationError(
            f"--format: {fmt!r} is not a format ({', '.join(FORMATS)})", field="format"
        )
    return key


def detect(path: str) -> str:
    """Guess the format of ``path``."""
    name = Path(path).name
    if os.path.isdir(path):
        return "maildir"
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if not head.strip():
        raise ValidationError(f"{name}: the file is empty", field="file")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx" if Path(path).suffix.lower() != ".zip" else "zip"
    if looks_binary(head):
        raise ValidationError(
            f"{name}: this is a binary file, not a format Kith reads", field="file"
        )
    text = head.decode(sniff_encoding(head), errors="replace").lstrip("\ufeff \r\n\t")
    upper = text[:200].upper()
    if upper.startswith("BEGIN:VCARD"):
        return "vcard"
    if upper.startswith("BEGIN:VCALENDAR"):
        return "ics"
    ext = _EXT.get(Path(path).suffix.lower())
    if ext:
        return ext
    if text.startswith("From "):
        return "mbox"
    if text[:1] in "[{":
        return "json"
    lines = head.lstrip().splitlines()[:5]
    if lines and all(_HEADER_LINE.match(ln) or ln[:1] in b" \t" for ln in lines[:3]):
        return "eml"
    return "csv"
