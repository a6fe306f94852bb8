"""iCalendar events as meeting interactions; recurring events expanded up to today."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

from dateutil.rrule import rruleset, rrulestr

from kith.core import clock
from kith.core.errors import KithError, ValidationError
from kith.core.limits import MAX_OCCURRENCES, MAX_OCCURRENCES_PER_FILE
from kith.imports.items import BadRow, InteractionIn, PersonRef, Unit
from kith.records.normalize import normalize_email


def _utc(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    raise ValueError(f"not a date or time: {value!r}")


def _person(prop: Any) -> PersonRef | None:
    text = str(prop or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    try:
        email = normalize_email(text)
    except KithError:
        return None
    params = getattr(prop, "params", {}) or {}
    name = str(params.get("CN", "") or "").strip().strip('"')
    return PersonRef(email=email, name=name if "@" not in name else "")


def _text(event: Any, key: str) -> str:
    value = event.get(key)
    return str(value).strip() if value is not None else ""


def _event_base(event: Any, method: str, bodies: bool) -> tuple[InteractionIn, Any, Any]:
    start_prop = event.get("DTSTART")
    cancelled = method == "CANCEL" or _text(event, "STATUS").upper() == "CANCELLED"
    if start_prop is None and cancelled and _text(event, "UID"):
        uid = _text(event, "UID")[:480]
        item = InteractionIn(
            kind="meeting",
            at=clock.now(),
            external_id=uid,
            cancelled=True,
            direction="",
            meta={"series": True},
        )
        return item, None, event.get("RECURRENCE-ID")
    if start_prop is None:
        raise ValueError("DTSTART: the event has no start time")
    start = start_prop.dt
    duration: int | None = None
    if event.get("DTEND") is not None:
        duration = int((_utc(event["DTEND"].dt) - _utc(start)).total_seconds())
    elif event.get("DURATION") is not None:
        duration = int(event["DURATION"].dt.total_seconds())
    elif not isinstance(start, dt.datetime):
        duration = 86_400
    if duration is not None and duration < 0:
        duration = None
    uid = (
        _text(event, "UID")
        or "ics:" + hashlib.sha1(f"{start}|{_text(event, 'SUMMARY')}".encode()).hexdigest()[:24]
    )
    people: list[tuple[PersonRef, str]] = []
    organiser = _person(event.get("ORGANIZER"))
    if organiser:
        people.append((organiser, "organiser"))
    attendees = event.get("ATTENDEE") or []
    if not isinstance(attendees, list):
        attendees = [attendees]
    for att in attendees:
        who = _person(att)
        if who and not any(p.email == who.email for p, _ in people):
            people.append((who, "attendee"))
    status = _text(event, "STATUS").upper()
    item = InteractionIn(
        kind="meeting",
        at=_utc(start),
        external_id=uid[:480],
        people=people,
        subject=_text(event, "SUMMARY")[:500],
        body=_text(event, "DESCRIPTION") if bodies else "",
        duration=duration,
        meta={
            "uid": uid,
            **({"location": _text(event, "LOCATION")} if event.get("LOCATION") else {}),
        },
        direction="",
        cancelled=method == "CANCEL" or status == "CANCELLED",
    )
    return item, start, event.get("RECURRENCE-ID")


def _occurrences(
    event: Any, start: Any, until: dt.datetime, cap: int = MAX_OCCURRENCES
) -> list[dt.datetime]:
    rules = event.get("RRULE")
    rules = rules if isinstance(rules, list) else [rules]
    naive = not isinstance(start, dt.datetime) or start.tzinfo is None
    begin = (
        start if isinstance(start, dt.datetime) else dt.datetime(start.year, start.month, start.day)
    )
    rset = rruleset()
    for rule in rules:
        text = rule.to_ical().decode()
        if naive:
            text = text.replace("Z;", ";") if text.endswith("Z") else text
        try:
            rset.rrule(rrulestr(text, dtstart=begin, ignoretz=naive))  # type: ignore[arg-type]
        except (ValueError, TypeError):
            # UNTIL in UTC with a floating start and the like: retry treating it as naive
            rset.rrule(rrulestr(text, dtstart=begin.replace(tzinfo=None), ignoretz=True))  # type: ignore[arg-type]
            begin = begin.replace(tzinfo=None)
            naive = True
    for key, add in (("EXDATE", rset.exdate), ("RDATE", rset.rdate)):
        props = event.get(key) or []
        for prop in props if isinstance(props, list) else [props]:
            for d in getattr(prop, "dts", []):
                v = d.dt
                if isinstance(v, dt.datetime):
                    if naive:
                        v = v.replace(tzinfo=None)
                    elif v.tzinfo is None:
                        v = v.replace(tzinfo=begin.tzinfo)
                elif isinstance(v, dt.date):
                    v = dt.datetime(v.year, v.month, v.day)
                    v = v if naive else v.replace(tzinfo=dt.UTC)
                add(v)
    limit = until.replace(tzinfo=None) if naive else until
    out: list[dt.datetime] = []
    for occ in rset:
        if occ > limit or len(out) > cap:  # one more than the cap: tells that it was cut
            break
        out.append(_utc(occ))
    return out


def calendar_units(text: str, *, bodies: bool, now: dt.datetime | None = None) -> Iterator[Unit]:
    """One unit per VEVENT (a recurring one carries all its occurrences)."""
    from icalendar import Calendar  # noqa: PLC0415 - icalendar costs 90 ms to import

    now = now or clock.now()
    try:
        calendars = Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # icalendar raises many kinds on malformed input
        raise ValidationError(f"not a readable iCalendar file: {exc}", field="file") from None
    index = 0
    expanded = 0  # occurrences of recurring events so far, against the per-file cap
    found = False
    for cal in calendars:
        method = str(cal.get("METHOD", "") or "").upper()
        events = [c for c in cal.walk("VEVENT")]
        found = found or bool(events) or cal.name == "VCALENDAR"
        # overridden instances first, so they win over the generated occurrence
        events.sort(key=lambda e: e.get("RECURRENCE-ID") is None)
        for event in events:
            index += 1
            where = f"event {index} ({_text(event, 'SUMMARY')[:40] or _text(event, 'UID')[:40]})"
            unit = Unit(where=where, raw=event.to_ical().decode("utf-8", errors="replace"))
            try:
                item, start, rec_id = _event_base(event, method, bodies)
                if rec_id is not None:
                    item.external_id = f"{item.external_id}/{_utc(rec_id.dt).isoformat()}"
                    unit.interactions = [item]
                elif event.get("RRULE") is not None and start is not None:
                    unit.interactions = []
                    room = min(MAX_OCCURRENCES, MAX_OCCURRENCES_PER_FILE - expanded)
                    occurrences = _occurrences(event, start, now, max(room, 0))
                    if len(occurrences) > room:
                        occurrences = occurrences[: max(room, 0)]
                        unit.notes.append(
                            f"kept the first {len(occurrences):,} occurrences of this "
                            f"recurring event (at most {MAX_OCCURRENCES:,} per event and "
                            f"{MAX_OCCURRENCES_PER_FILE:,} per file); left out the rest"
                        )
                    expanded += len(occurrences)
                    for occ in occurrences:
                        copy = InteractionIn(**{**item.__dict__, "meta": dict(item.meta)})
                        copy.at = occ
                        copy.external_id = f"{item.external_id}/{occ.isoformat()}"
                        copy.meta["recurring"] = True
                        unit.interactions.append(copy)
                else:
                    unit.interactions = [item]
                if not unit.interactions[:1] and not event.get("RRULE"):
                    raise ValueError("the event has no time")
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                unit.error = BadRow(where, str(exc) or type(exc).__name__)
            yield unit
    if not found:
        raise ValidationError("no VCALENDAR in the file", field="file")


def wrap_events(raw_events: list[str]) -> str:
    """A calendar holding the given raw VEVENTs (for reject files)."""
    body = "".join(raw_events)
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kith//rejects//EN\r\n{body}END:VCALENDAR\r\n"
    )
