"""Turn a raw record into a validated one, or a bad row naming the column and value."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from dateutil import parser

from kith.core.errors import KithError, ValidationError
from kith.imports.items import BadRow, RawRecord, RecordIn
from kith.records.models import FieldDef, RecordType
from kith.records.normalize import (
    check_birthday,
    clean_name,
    coerce_value,
    normalize_domain,
    normalize_email,
    normalize_phone,
    normalize_url,
)
from kith.records.tags import clean_tag, split_tags

_TYPE_ALIASES = {
    "people": "person",
    "contact": "person",
    "org": "organization",
    "organisation": "organization",
    "company": "organization",
}
_REL_TYPES = {
    "spouse": "spouse_of",
    "colleague": "colleague_of",
    "co-worker": "colleague_of",
    "coworker": "colleague_of",
    "friend": "friend_of",
    "parent": "child_of",
    "child": "parent_of",
    "supervisor": "reports_to",
    "manager": "reports_to",
    "mother": "child_of",
    "father": "child_of",
    "domestic partner": "spouse_of",
    "partner": "spouse_of",
    "husband": "spouse_of",
    "wife": "spouse_of",
    "son": "parent_of",
    "daughter": "parent_of",
}
_NO_DEFAULT = dt.datetime(1, 1, 1)
_MULTI = {"email", "phone", "domain", "url"}
_BDAY = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})(?:[T ].*)?$")
_BDAY_NO_YEAR = re.compile(r"^--(\d{2})-?(\d{2})$")
# Outlook desktop writes an empty date as 0/0/00 (or 0/0/0000): no date at all
_NO_DATE = re.compile(r"^0{1,2}/0{1,2}/0{2,4}$")


class FieldSpecs:
    """Field definitions of every record type, loaded once per import."""

    def __init__(self) -> None:
        self.types = set(RecordType.objects.values_list("key", flat=True))
        self.defs: dict[str, dict[str, tuple[str, list[str]]]] = {t: {} for t in self.types}
        for f in FieldDef.objects.all():
            self.defs.setdefault(f.record_type_id, {})[f.name] = (f.kind, list(f.choices or []))

    def ensure_date(self, type_key: str, name: str) -> None:
        """Define a date field the file fills (a Google anniversary) when the type lacks
        it; inside the import's transaction, so a dry run or a failed import adds none."""
        if type_key in self.defs and name not in self.defs[type_key]:
            from kith.records.services import add_field  # noqa: PLC0415 - a rare write

            add_field(type_key=type_key, spec=f"{name}:date")
            self.defs[type_key][name] = ("date", [])

    def names(self, type_key: str = "person") -> list[str]:
        return list(self.defs.get(type_key, {}))


def reltype_for(kind: str) -> str:
    return _REL_TYPES.get(kind.strip().lower(), "knows")


def _birthday(value: str) -> tuple[str | None, str | None]:
    """(ISO date, or None) and a note for a year-less birthday."""
    text = value.strip()
    if _NO_DATE.match(text):
        return None, None
    if m := _BDAY.match(text):
        return f"{m.group(1)}-{m.group(2)}-{m.group(3)}", None
    if m := _BDAY_NO_YEAR.match(text):
        return None, f"Birthday: --{m.group(1)}-{m.group(2)}"
    return loose_date(text), None


def _pair_key(column: str) -> str:
    """ "Relation 1 - Label" and "Relation 1 - Value" -> "relation 1"."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", column.lower()).split()[:2])


def _date_cell(value: str, column: str) -> str:
    """An ISO date from a date cell, or a ValidationError naming the column and value."""
    iso = loose_date(value.strip())
    try:
        dt.date.fromisoformat(iso)
    except ValueError:
        raise ValidationError(f"{column}: {value!r} is not a date (use YYYY-MM-DD)") from None
    return iso


def loose_date(text: str) -> str:
    """``8/9/1981``, ``9 Oct 2024`` and the like as ISO; unchanged when not a date."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text

    try:
        parsed = parser.parse(text, default=_NO_DEFAULT)
    except (ValueError, OverflowError):
        return text
    if parsed.year == _NO_DEFAULT.year:
        return text
    return parsed.date().isoformat()


def validate(raw: RawRecord, specs: FieldSpecs, where: str) -> RecordIn | BadRow | None:
    """Build the incoming record; the first bad value makes the row bad."""
    parts: dict[str, str] = {}
    type_key = "person"
    rec = RecordIn(type_key="person", name="")
    notes: list[str] = []
    fields: dict[str, Any] = {}
    raw_fields: list[tuple[str, str, str]] = []
    expanded: list[tuple[str, str, str]] = []
    for target, column, value in raw.values:
        if target in _MULTI and ":::" in value:
            expanded.extend((target, column, v) for v in value.split(":::") if v.strip())
        else:
            expanded.append((target, column, value))
    # Google pairs a value with its label by number: "Relation 1 - Label" = "Spouse"
    labels = {_pair_key(column): value.strip() for t, column, value in expanded if t.endswith(
        "_label")}  # fmt: skip
    for target, column, value in expanded:
        try:
            if target == "email" and value.startswith("/O="):
                notes.append(f"Exchange address: {value}")  # Outlook's internal X.500 form
            elif target == "email":
                for piece in [p for p in re.split(r"[;,\s]+", value) if p]:
                    norm = normalize_email(piece, field=column)
                    if norm not in rec.emails:
                        rec.emails.append(norm)
            elif target == "phone":
                norm = normalize_phone(value, field=column)
                if norm not in (p[1] for p in rec.phones):
                    rec.phones.append((value.strip(), norm))
            elif target == "domain":
                dom = normalize_domain(value, field=column)
                if dom not in rec.domains:
                    rec.domains.append(dom)
            elif target == "url":
                url = normalize_url(value, field=column)
                if url not in rec.urls:
                    rec.urls.append(url)
            elif target == "type":
                key = value.strip().lower()
                type_key = _TYPE_ALIASES.get(key, key)
                if type_key not in specs.types:
                    return BadRow(where, f"unknown record type {value!r}", column, value)
            elif target in {"name", "first", "middle", "last", "prefix", "suffix", "nickname"}:
                parts[target] = (parts.get(target, "") + " " + value).strip()
            elif target == "org":
                rec.org = rec.org or " ".join(value.split())
            elif target == "title":
                rec.title = rec.title or " ".join(value.split())
            elif target == "department":
                notes.append(f"Department: {value}")
            elif target == "address":
                parts["address"] = ", ".join(p for p in (parts.get("address"), value) if p)
            elif target == "birthday":
                iso, note = _birthday(value)
                if note:
                    notes.append(note)
                elif iso:
                    raw_fields.append(("birthday", column, iso))
            elif target == "anniversary" or (
                target == "event" and labels.get(_pair_key(column), "").casefold() == "anniversary"
            ):
                if m := _BDAY_NO_YEAR.match(value.strip()):  # Google's year-less date
                    notes.append(f"Anniversary: --{m.group(1)}-{m.group(2)}")
                else:
                    raw_fields.append(("anniversary", column, _date_cell(value, column)))
            elif target == "event":  # a birthday-like date of another kind: kept as a note
                label = labels.get(_pair_key(column)) or "Event"
                notes.append(f"{label}: {_date_cell(value, column)}")
            elif target == "relation":
                # a relationship when the value names a person of the file or of Kith
                # (resolved after the last row); else kept in the notes, label and all
                label = labels.get(_pair_key(column), "")
                rec.related.append((reltype_for(label), f"relation:{label}:{value.strip()}"))
            elif target == "note":
                notes.append(value)
            elif target == "uid":
                rec.uid = value.strip()
            elif target in ("tag", "tag:one"):
                # Google's system groups ("* myContacts", "* starred") are no labels
                known = {t.casefold() for t in rec.tags}
                one = [clean_tag(value, field=column)[0]] if target == "tag:one" else None
                for tag in one or split_tags(value, field=column):
                    if not tag.startswith("* ") and tag.casefold() not in known:
                        rec.tags.append(tag)
                        known.add(tag.casefold())
            elif target.startswith("related:"):
                rec.related.append((reltype_for(target.split(":", 1)[1]), value.strip()))
            elif target.startswith("field:"):
                raw_fields.append((target.split(":", 1)[1], column, value))
        except KithError as exc:
            return BadRow(where, exc.message.split(": ", 1)[-1], column, value)
    rec.type_key = type_key
    defs = specs.defs.get(type_key, {})
    for fname, column, value in raw_fields:
        if fname == "anniversary":
            specs.ensure_date(type_key, fname)
            defs = specs.defs.get(type_key, {})
        spec = defs.get(fname)
        if spec is None:
            return BadRow(where, f"{type_key} has no field {fname!r}", column, value)
        try:
            fields[fname] = coerce_value(spec[0], value, field=column, choices=spec[1])
            if spec[0] == "date":
                check_birthday(fname, fields[fname], field=column)
        except KithError as exc:
            return BadRow(where, exc.message.split(": ", 1)[-1], column, value)
    if parts.get("address") and "location" in defs and "location" not in fields:
        fields["location"] = parts["address"]
    if rec.title and type_key == "person" and "title" in defs:
        fields.setdefault("title", rec.title)
    if notes and "notes" in defs:
        fields["notes"] = "\n".join([*([fields["notes"]] if fields.get("notes") else []), *notes])
    rec.fields = fields
    name = parts.get("name") or " ".join(
        parts[k] for k in ("prefix", "first", "middle", "last", "suffix") if parts.get(k)
    )
    if not name or (
        set(parts) & {"first", "last"} and not (parts.get("first") or parts.get("last"))
    ):
        name = name or parts.get("nickname", "")
    if not name and type_key == "person" and rec.org and not rec.emails and not rec.phones:
        # a row that only names a company is the company
        type_key = rec.type_key = "organization"
        name, rec.org = rec.org, ""
        rec.fields = {k: v for k, v in fields.items() if k in specs.defs.get(type_key, {})}
    if not name and rec.emails:
        name = rec.emails[0].split("@")[0].replace(".", " ").replace("_", " ").title()
    if not name and rec.phones:
        name = rec.phones[0][0]
    if not name:
        return None  # nothing identifies it (e.g. a deleted LinkedIn connection): skipped
    try:
        rec.name = clean_name(name)
    except KithError as exc:
        return BadRow(where, exc.message.split(": ", 1)[-1], "name", name)
    if type_key == "person" and rec.domains:
        return BadRow(where, "people have emails, not domains", "domain", rec.domains[0])
    return rec
