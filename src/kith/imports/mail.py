"""Email (mbox, Maildir, .eml) as email interactions, streamed one message at a time."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32
from pathlib import Path
from typing import Any

from kith.core.errors import KithError
from kith.core.limits import MAX_PARTICIPANTS
from kith.imports.items import BadRow, InteractionIn, PersonRef, Unit
from kith.records.normalize import normalize_email

_HEADER_PARSER = BytesHeaderParser(policy=compat32)
_FULL_PARSER = BytesParser(policy=compat32)
_MSGID = re.compile(r"<([^<>\s]+)>")
_FROM_LINE = re.compile(rb"^From \S*")
MAX_BODY = 1_000_000


def mbox_messages(path: str) -> Iterator[tuple[int, bytes]]:
    """(line number, raw bytes) per message of an mbox file, in bounded memory."""
    with open(path, "rb") as fh:
        lines: list[bytes] = []
        start = 0
        previous_blank = True
        for n, line in enumerate(fh, start=1):
            if previous_blank and line.startswith(b"From ") and _FROM_LINE.match(line):
                if lines:
                    yield start, b"".join(lines)
                lines, start = [], n + 1
                previous_blank = False
                continue
            if not lines and not start:
                start = n
            if line.startswith(b">From "):
                line = line[1:]
            lines.append(line)
            previous_blank = line in (b"\n", b"\r\n")
        if lines and any(x.strip() for x in lines):
            yield start, b"".join(lines)


def maildir_files(path: str) -> Iterator[str]:
    """Every message file under a Maildir (or any folder of messages), in a stable order."""
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "tmp")
        for name in sorted(files):
            if not name.startswith("."):
                yield os.path.join(root, name)


def _decode(value: str | None) -> str:
    if not value:
        return ""
    text = str(value)
    if "=?" not in text:  # no encoded words: make_header(decode_header(text)) is text
        return text
    try:
        return str(make_header(decode_header(text)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return str(value)


# One plain mailbox: ``addr@x`` or ``Name <addr@x>`` with no quotes, comments or groups.
_ATOM = r"[^<>\s\",;:()]+@[^<>\s\",;:()]+"
_PLAIN_MAILBOX = re.compile(rf"^\s*(?:([^<>\",;:()@]*?)\s*<({_ATOM})>|({_ATOM}))\s*$")


class Headers:
    """A message's headers by lower-case name, values in order, as compat32 returns them."""

    __slots__ = ("by_name",)

    def __init__(self, pairs: Iterable[tuple[str, Any]]) -> None:
        self.by_name: dict[str, list[Any]] = {}
        for name, value in pairs:
            self.by_name.setdefault(name.lower(), []).append(value)

    def get(self, name: str) -> Any:
        values = self.by_name.get(name.lower())
        return values[0] if values else None

    def get_all(self, name: str, default: list[Any]) -> list[Any]:
        return self.by_name.get(name.lower(), default)


_UNUSUAL = re.compile(rb"[^\t\n\x20-\x7e]")
# a header: a name of printable characters but ":", then its value and continuation lines
_HEADER = re.compile(r"([!-9;-~]+):[ \t]*(.*\n(?:[ \t].*\n)*)")


def fast_headers(raw: bytes) -> Headers | None:
    """The headers of a plain message (printable ASCII, LF line ends, a blank line after
    them), exactly as ``BytesHeaderParser(policy=compat32)`` reads them, at a fraction of
    its cost; None for anything else (the stdlib parser decides)."""
    end = raw.find(b"\n\n")
    if end <= 0 or _UNUSUAL.search(raw, 0, end) is not None:
        return None
    text = raw[: end + 1].decode("ascii")
    heads = Headers(())
    by_name = heads.by_name
    pos, size, match = 0, len(text), _HEADER.match
    while pos < size:
        m = match(text, pos)
        if m is None:
            return None  # a continuation first, "From ", a line without a name: the stdlib
        name, value = m.groups()
        found = by_name.get(name.lower())
        if found is None:
            by_name[name.lower()] = [value.rstrip("\r\n")]
        else:
            found.append(value.rstrip("\r\n"))
        pos = m.end()
    return heads


def _split_addresses(values: list[str]) -> list[tuple[str, str]]:
    """Parse address headers: a fast path for plain mailboxes, the stdlib for the rest.

    ``email.utils.getaddresses`` costs ~0.1 ms per address; most headers are plain lists.
    """
    pairs: list[tuple[str, str]] = []
    for value in values:
        parts = value.split(",") if '"' not in value and "(" not in value else None
        matches = [_PLAIN_MAILBOX.match(p) for p in parts] if parts else None
        if matches and all(matches):
            for m in matches:
                assert m is not None
                pairs.append((m.group(1) or "", m.group(2) or m.group(3)))
        else:
            pairs.extend(email.utils.getaddresses([value]))
    return pairs


# header value -> its valid addresses as (normalised, shown name), first occurrence first;
# a pure function of the text, so shared by every message (and import) of the process
_ADDRESS_CACHE: dict[str, list[tuple[str, str]]] = {}
_ADDRESS_CACHE_MAX = 100_000


def _value_addresses(value: str) -> list[tuple[str, str]]:
    found = _ADDRESS_CACHE.get(value)
    if found is not None:
        return found
    found = []
    for name, addr in _split_addresses([value]):
        try:
            norm = normalize_email(addr)
        except KithError:
            continue
        shown = " ".join(_decode(name).replace('"', "").split())
        found.append((norm, shown if "@" not in shown else ""))
    if len(_ADDRESS_CACHE) >= _ADDRESS_CACHE_MAX:
        _ADDRESS_CACHE.clear()
    _ADDRESS_CACHE[value] = found
    return found


def _addresses(msg: Headers, *keys: str) -> list[PersonRef]:
    out: list[PersonRef] = []
    seen: set[str] = set()
    for key in keys:
        for value in msg.get_all(key, []):
            for norm, shown in _value_addresses(str(value)):
                if norm not in seen:
                    seen.add(norm)
                    out.append(PersonRef(email=norm, name=shown))
    return out


def _ids(value: str | None) -> list[str]:
    return _MSGID.findall(str(value or ""))


_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
)}  # fmt: skip
# the common RFC 5322 form, ``Mon, 1 Jan 2024 09:30:00 +0100``; anything else: the stdlib
_PLAIN_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) ([A-Z][a-z]{2}) ([1-9]\d{3}) "
    r"(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})"
)


def _plain_date(text: str) -> dt.datetime | None:
    """What ``parsedate_to_datetime`` returns for the common form, in UTC, or None."""
    m = _PLAIN_DATE.fullmatch(text)
    if m is None or m.group(2) not in _MONTHS:
        return None
    day, _, year, hh, mm, ss, sign, zh, zm = m.groups()
    offset = int(zh) * 3600 + int(zm) * 60
    try:
        moment = dt.datetime(
            int(year), _MONTHS[m.group(2)], int(day), int(hh), int(mm), int(ss),
            tzinfo=dt.timezone(dt.timedelta(seconds=-offset if sign == "-" else offset)),
        )  # fmt: skip
    except ValueError:
        return None  # out of range: the stdlib decides
    return moment.astimezone(dt.UTC)


def _date(msg: Headers) -> dt.datetime | None:
    first = msg.get("Date")
    if first and isinstance(first, str):
        quick = _plain_date(first.strip())
        if quick is not None:
            return quick
    for candidate in [
        first,
        *(str(r).rsplit(";", 1)[-1] for r in msg.get_all("Received", [])),
    ]:
        if not candidate:
            continue
        try:
            moment = email.utils.parsedate_to_datetime(str(candidate).strip())
        except (TypeError, ValueError, IndexError):
            continue
        if moment is None:
            continue
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    return None


def _body(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                charset = part.get_content_charset() or "utf-8"
                try:
                    return payload.decode(charset, errors="replace")[:MAX_BODY]
                except LookupError:
                    return payload.decode("latin-1")[:MAX_BODY]
    return ""


def message_interaction(raw: bytes, where: str, *, bodies: bool) -> InteractionIn | BadRow:
    """One email interaction from a message's bytes, or the reason it cannot be read."""
    if b"\n\n" not in raw and b"\r\n\r\n" not in raw and not raw.endswith(b"\n"):
        return BadRow(where, "truncated: the message ends inside its headers")
    heads = None if bodies else fast_headers(raw)
    msg: Message | None = None
    if heads is None:
        try:
            msg = (_FULL_PARSER if bodies else _HEADER_PARSER).parsebytes(raw)
        except Exception as exc:  # the parser is lenient; anything left is a broken message
            return BadRow(where, f"unreadable message: {exc}")
        if not msg.keys():
            return BadRow(where, "not an email message: no headers")
        heads = Headers(msg.items())
    senders = _addresses(heads, "From") or _addresses(heads, "Sender", "Return-Path")
    if not senders:
        value = _decode(heads.get("From"))
        return BadRow(where, "no valid sender address", "From", value)
    at = _date(heads)
    if at is None:
        return BadRow(where, "no valid date", "Date", _decode(heads.get("Date")))
    if msg is not None and bodies:
        for defect in msg.defects:
            if type(defect).__name__ in {
                "CloseBoundaryNotFoundDefect",
                "StartBoundaryNotFoundDefect",
            }:
                return BadRow(where, f"truncated: {type(defect).__name__}")
    message_id = (_ids(heads.get("Message-ID")) or [""])[0]
    subject = " ".join(_decode(heads.get("Subject")).split())
    if not message_id:
        digest = hashlib.sha1(f"{senders[0].email}|{at.isoformat()}|{subject}".encode()).hexdigest()
        message_id = f"kith-{digest[:32]}@generated"
    references = _ids(heads.get("References"))
    in_reply_to = (_ids(heads.get("In-Reply-To")) or [""])[0]
    root = references[0] if references else (in_reply_to or message_id)
    people: list[tuple[PersonRef, str]] = [(senders[0], "from")]
    seen = {senders[0].email}
    for role, keys in (("to", ("To",)), ("cc", ("Cc",)), ("bcc", ("Bcc",))):
        for who in _addresses(heads, *keys):
            if who.email not in seen:
                seen.add(who.email)
                people.append((who, role))
    meta: dict[str, object] = {"message_id": message_id}
    precedence = _decode(heads.get("Precedence")).strip().lower()
    if heads.get("List-Id") or precedence in ("bulk", "list", "junk"):
        meta["bulk"] = True  # a mailing list or a bulk sender: its addresses make no people
    if len(people) > MAX_PARTICIPANTS:  # the sender and the first recipients are kept
        meta["participants_cut"] = len(people) - MAX_PARTICIPANTS
        people = people[:MAX_PARTICIPANTS]
    if in_reply_to:
        meta["in_reply_to"] = in_reply_to
    if references:
        meta["references"] = references[-50:]
    return InteractionIn(
        kind="email",
        at=at,
        external_id=f"<{message_id}>"[:480],
        people=people,
        subject=subject[:500],
        body=_body(msg) if msg is not None and bodies else "",
        thread_id=f"<{root}>"[:480],
        meta=meta,
    )


def _unit(raw: bytes, where: str, bodies: bool) -> Unit:
    unit = Unit(where=where, raw=raw)
    result = message_interaction(raw, where, bodies=bodies)
    if isinstance(result, BadRow):
        unit.error = result
    else:
        unit.interactions = [result]
        if cut := result.meta.get("participants_cut"):
            unit.notes.append(
                f"kept the first {MAX_PARTICIPANTS} participants, left out {cut:,} more"
            )
    return unit


def mbox_units(path: str, *, bodies: bool) -> Iterator[Unit]:
    for index, (line, raw) in enumerate(mbox_messages(path), start=1):
        yield _unit(raw, f"message {index} (line {line})", bodies)


def maildir_units(path: str, *, bodies: bool) -> Iterator[Unit]:
    base = Path(path)
    for index, file in enumerate(maildir_files(path), start=1):
        with open(file, "rb") as fh:
            raw = fh.read()
        yield _unit(raw, f"message {index} ({Path(file).relative_to(base)})", bodies)


def eml_units(path: str, *, bodies: bool) -> Iterator[Unit]:
    with open(path, "rb") as fh:
        raw = fh.read()
    yield _unit(raw, "message 1", bodies)


def mbox_entry(raw: bytes) -> bytes:
    """A message as an mbox entry (for reject files)."""
    body = re.sub(rb"(?m)^From ", b">From ", raw)
    if not body.endswith(b"\n"):
        body += b"\n"
    return b"From kith-reject Thu Jan  1 00:00:00 1970\n" + body + b"\n"
