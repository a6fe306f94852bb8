"""A forgiving vCard 2.1 / 3.0 / 4.0 reader (and writer).

Written by hand because vobject mis-reads real files: quoted-printable soft line breaks,
commas in FN, UTF-16 files, 2.1's bare TYPE parameters. Each card becomes a raw record.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Iterator
from typing import Any

from kith.imports.items import MAX_FIELD, BadRow, RawRecord, Unit

_PROP = re.compile(r"^(?:[A-Za-z0-9-]+\.)?([A-Za-z0-9-]+)((?:;[^:]*)?):(.*)$", re.S)
_KEPT_X = {"X-ABSHOWAS", "X-KITH-TYPE", "X-KITH-DOMAIN", "X-KITH-FIELD"}
DROPPED = {"PHOTO", "LOGO", "SOUND", "KEY", "AGENT"}


def _split_params(text: str) -> dict[str, list[str]]:
    """``;TYPE=work,pref;ENCODING=QUOTED-PRINTABLE;WORK`` -> {"TYPE": [...], ...}."""
    params: dict[str, list[str]] = {}
    for part in re.findall(r';((?:[^;"]|"[^"]*")*)', text):
        if not part:
            continue
        key, sep, val = part.partition("=")
        if not sep:  # vCard 2.1: bare values such as WORK, PREF, QUOTED-PRINTABLE
            key, val = (
                ("ENCODING", part)
                if part.upper()
                in {
                    "QUOTED-PRINTABLE",
                    "BASE64",
                    "B",
                    "8BIT",
                }
                else ("TYPE", part)
            )
        vals = [v.strip('"') for v in re.findall(r'"[^"]*"|[^,]+', val)]
        params.setdefault(key.upper(), []).extend(vals)
    return params


def unfold(text: str) -> Iterator[tuple[int, str]]:
    """Logical lines with their first physical line number.

    Handles RFC folding (a leading space or tab) and quoted-printable soft breaks (a
    line ending in ``=`` continues on the next one).
    """
    current: str | None = None
    start = 0
    qp_open = False
    for n, line in enumerate(text.splitlines(), start=1):
        if current is not None and qp_open:
            current = current[:-1] + line.lstrip(" \t") if current.endswith("=") else current
            qp_open = current.endswith("=")
            continue
        if current is not None and line[:1] in (" ", "\t"):
            current += line[1:]
            continue
        if current is not None:
            yield start, current
        current, start = line, n
        head = line.split(":", 1)[0].upper()
        qp_open = "QUOTED-PRINTABLE" in head and line.endswith("=")
    if current is not None:
        yield start, current


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _components(text: str) -> list[str]:
    return [_unescape(p) for p in re.split(r"(?<!\\);", text)]


def _decode(value: str, params: dict[str, list[str]]) -> str:
    enc = [e.upper() for e in params.get("ENCODING", [])]
    if "QUOTED-PRINTABLE" in enc:
        charset = (params.get("CHARSET") or ["utf-8"])[0]
        data = quopri.decodestring(value.encode("latin-1", errors="replace"))
        for cs in (charset, "utf-8", "cp1252"):
            try:
                return data.decode(cs)
            except (UnicodeDecodeError, LookupError):
                continue
        return data.decode("latin-1")
    charset = (params.get("CHARSET") or [""])[0]
    if charset and charset.lower() not in {"utf-8", "utf8", "us-ascii"}:
        # the file was decoded as UTF-8 or cp1252 already; re-decode 8-bit text if needed
        try:
            return value.encode("latin-1").decode(charset)
        except (UnicodeError, LookupError):
            return value
    return value


def cards(text: str) -> Iterator[tuple[int, list[tuple[int, str]] | None, str]]:
    """(first line, logical lines or None when truncated, raw text) per card."""
    depth = 0
    lines: list[tuple[int, str]] = []
    raw: list[str] = []
    start = 0
    for n, line in unfold(text):
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            depth += 1
            if depth == 1:
                lines, raw, start = [], [], n
                raw.append(line)
                continue
        if depth == 0:
            continue
        raw.append(line)
        if upper == "END:VCARD":
            depth -= 1
            if depth == 0:
                yield start, lines, "\r\n".join(raw) + "\r\n"
            continue
        if depth == 1:
            lines.append((n, line))
    if depth > 0:
        yield start, None, "\r\n".join(raw) + "\r\n"


def card_units(text: str) -> Iterator[Unit]:
    """One unit per card in ``text``."""
    for index, (start, lines, raw) in enumerate(cards(text), start=1):
        where = f"card {index} (line {start})"
        unit = Unit(where=where, raw=raw)
        if lines is None:
            unit.error = BadRow(where, "truncated: the card has no END:VCARD")
            yield unit
            continue
        rec = RawRecord()
        try:
            _fill(rec, lines, where)
        except _Bad as bad:
            unit.error = bad.row
        unit.record = rec
        yield unit


class _Bad(Exception):
    def __init__(self, row: BadRow) -> None:
        self.row = row


def _fill(rec: RawRecord, lines: list[tuple[int, str]], where: str) -> None:
    kind = ""
    org_seen = False
    for n, line in lines:
        m = _PROP.match(line)
        if not m:
            continue
        prop, params_text, value = m.group(1).upper(), m.group(2), m.group(3)
        if prop in DROPPED or (prop.startswith("X-") and prop not in _KEPT_X):
            continue
        params = _split_params(params_text)
        value = _decode(value, params).replace("\r\n", "\n").replace("\r", "\n")
        if len(value) > MAX_FIELD:
            raise _Bad(
                BadRow(
                    f"{where}, line {n}", f"longer than {MAX_FIELD:,} characters", prop, value[:60]
                )
            )
        types = ",".join(params.get("TYPE", [])).lower()
        if prop == "FN":
            rec.add("name", "FN", _unescape(value).strip())
        elif prop == "N":
            comps = [*_components(value), "", "", "", "", ""]
            for target, comp in zip(
                ("last", "first", "middle", "prefix", "suffix"), comps, strict=False
            ):
                rec.add(target, "N", comp.replace(",", " ").strip())
        elif prop == "NICKNAME":
            rec.add("nickname", prop, _unescape(value).split(",")[0])
        elif prop == "EMAIL":
            rec.add("email", prop, _unescape(value).strip().removeprefix("mailto:"))
        elif prop == "TEL":
            rec.add("phone", prop, _unescape(value).strip().removeprefix("tel:"))
        elif prop == "ADR":
            rec.add("address", prop, ", ".join(c.strip() for c in _components(value) if c.strip()))
        elif prop == "ORG" and not org_seen:
            comps = [c.strip() for c in _components(value)]
            rec.add("org", prop, comps[0] if comps else "")
            for dept in comps[1:]:
                rec.add("department", prop, dept)
            org_seen = True
        elif prop == "TITLE":
            rec.add("title", prop, _unescape(value))
        elif prop == "ROLE":
            rec.add("note", prop, f"Role: {_unescape(value)}")
        elif prop == "BDAY":
            rec.add("birthday", prop, value.strip())
        elif prop == "NOTE":
            rec.add("note", prop, _unescape(value))
        elif prop == "CATEGORIES":
            for category in re.split(r"(?<!\\),", value):
                rec.add("tag:one", prop, _unescape(category))
        elif prop == "URL":
            url = _unescape(value).strip()
            rec.add("field:linkedin" if "linkedin.com" in url else "url", prop, url)
        elif prop == "UID":
            rec.add("uid", prop, value.strip())
        elif prop == "RELATED":
            rel = types.split(",")[0] if types else ""
            rec.add(f"related:{rel}", prop, _unescape(value).strip())
        elif prop == "KIND":
            kind = value.strip().lower()
        elif prop == "X-ABSHOWAS" and value.strip().upper() == "COMPANY":
            kind = kind or "org"
        elif prop == "X-KITH-TYPE":
            kind = value.strip().lower()
        elif prop == "X-KITH-DOMAIN":
            rec.add("domain", prop, value.strip())
        elif prop == "X-KITH-FIELD":
            key = (params.get("NAME") or [""])[0].lower()
            rec.add(f"field:{key}", f"X-KITH-FIELD;NAME={key}", _unescape(value))
    if kind and kind not in {"individual", "person"}:
        names = [v for t, _, v in rec.values if t == "org"]
        rec.values = [v for v in rec.values if v[0] not in {"org", "first", "last", "middle"}]
        if names and not any(t == "name" for t, _, _ in rec.values):
            rec.add("name", "ORG", names[0])
        rec.add("type", "KIND", "organization" if kind == "org" else kind)


def _esc(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    out, chunk = [], line
    while len(chunk.encode("utf-8")) > 75:
        cut = 75
        while len(chunk[:cut].encode("utf-8")) > 75:
            cut -= 1
        out.append(chunk[:cut])
        chunk = " " + chunk[cut:]
    out.append(chunk)
    return "\r\n".join(out)


def write_card(view: dict[str, Any]) -> str:
    """A vCard 3.0 for an exported record (see ``selectors.export_rows``)."""
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{_esc(view['name'])}"]
    if view["type"] == "person":
        lines.append(f"N:;{_esc(view['name'])};;;")
    else:
        lines.append(f"N:{_esc(view['name'])};;;;")
        lines.append(f"X-KITH-TYPE:{view['type']}")
        if view["type"] == "organization":
            lines.append("X-ABShowAs:COMPANY")
    lines.append(f"UID:{view['id']}")
    for e in view["emails"]:
        lines.append(f"EMAIL;TYPE=INTERNET:{e}")
    for p in view["phones"]:
        lines.append(f"TEL:{p}")
    for u in view["urls"]:
        lines.append(f"URL:{u}")
    for d in view.get("domains", []):
        lines.append(f"X-KITH-DOMAIN:{d}")
    fields = dict(view["fields"])
    if view.get("org"):
        lines.append(f"ORG:{_esc(view['org'])}")
        if view.get("title"):
            lines.append(f"TITLE:{_esc(view['title'])}")
            if fields.get("title") == view["title"]:
                fields.pop("title")
    for key, value in sorted(fields.items()):
        if key == "birthday":
            lines.append(f"BDAY:{value}")
        elif key == "notes":
            lines.append(f"NOTE:{_esc(str(value))}")
        elif key == "website" and value in view["urls"]:
            continue
        elif key == "linkedin":
            lines.append(f"URL:{value}")
        else:
            lines.append(f"X-KITH-FIELD;NAME={key}:{_esc(str(value))}")
    if view.get("tags"):
        lines.append("CATEGORIES:" + ",".join(_esc(t) for t in view["tags"]))
    lines.append("END:VCARD")
    return "\r\n".join(_fold(ln) for ln in lines) + "\r\n"
