"""When a time-based rule would have fired over a past period (``kith rule test --since``).

Reads only. Each trigger's firings are worked out from what the history keeps, the way the
periodic scan decides them day by day:

- ``no_contact {days}``: the pair table keeps every day of two-way contact, so each silence
  longer than N days that reached its N+1st day inside the period fires once, that day.
- ``date_offset {field, days}``: records whose date plus N days falls inside the period.
- ``schedule {rrule}``: each occurrence inside the period, for every matching record.

A record's fields are read as they are now (as the event replay does); the records are
those the viewer may see, with the rule's type and conditions applied in the query. A saved
list's past members are not kept, so ``list.entered``/``list.left`` cannot be replayed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import islice
from typing import Any

from dateutil import rrule as dateutil_rrule
from django.db.models import Max, QuerySet

from kith.core.errors import ValidationError
from kith.core.viewer import Viewer
from kith.intelligence.models import PairStat
from kith.records import conditions
from kith.records.models import Record
from kith.records.selectors import visible_q
from kith.relationships.selectors import team_ids
from kith.rules.models import Rule

Firing = tuple[dt.datetime, str, dict[str, Any]]  # when, record id, the event's payload
MAX_OCCURRENCES = 400


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _candidates(
    viewer: Viewer, rule: Rule, type_key: str | None, today: dt.date
) -> QuerySet[Record]:
    qs = Record.objects.filter(visible_q(viewer), deleted_at__isnull=True, merged_into__isnull=True)
    if type_key:
        qs = qs.filter(type_id=type_key)
    cond = rule.spec.get("conditions")
    if cond is not None:
        qs = qs.filter(conditions.parse(cond).q(today=today))
    return qs


def _no_contact(viewer: Viewer, rule: Rule, start: dt.date, today: dt.date) -> Iterator[Firing]:
    days = int(rule.spec["trigger"]["days"])
    people = _candidates(viewer, rule, "person", today).exclude(pk__in=team_ids(today))
    ids = people.values("id")
    # a silence firing inside the period began no earlier than days + 1 before its start
    low = start - dt.timedelta(days=days + 1)
    two_way = PairStat.objects.filter(person_id__in=ids, n_two__gt=0, day__lte=today)
    before = dict(
        two_way.filter(day__lt=low)
        .values("person_id")
        .annotate(last=Max("day"))
        .values_list("person_id", "last")
    )
    within: dict[str, list[dt.date]] = {}
    rows = (
        two_way.filter(day__gte=low)
        .values_list("person_id", "day")
        .distinct()
        .order_by("person_id", "day")
    )
    for pid, day in rows:
        within.setdefault(pid, []).append(day)
    for pid in sorted(set(before) | set(within)):
        seen = ([before[pid]] if pid in before else []) + within.get(pid, [])
        for i, last in enumerate(seen):
            fires = last + dt.timedelta(days=days + 1)  # the scan: last < that day - N
            following = seen[i + 1] if i + 1 < len(seen) else None
            if start <= fires <= today and (following is None or following >= fires):
                payload = {"last_two_way": last.isoformat(), "days": days}
                yield _at(fires), pid, payload


def _date_offset(viewer: Viewer, rule: Rule, start: dt.date, today: dt.date) -> Iterator[Firing]:
    trigger = rule.spec["trigger"]
    name, days = trigger["field"], int(trigger["days"])
    shift = dt.timedelta(days=days)
    window = conditions.parse(
        {
            "all": [
                {"field": name, "op": "gte", "value": (start - shift).isoformat()},
                {"field": name, "op": "lte", "value": (today - shift).isoformat()},
            ]
        },
        path="trigger",
    )
    qs = _candidates(viewer, rule, trigger.get("type"), today).filter(window.q(today=today))
    for rid, fields in qs.values_list("id", "fields"):
        value = (fields or {}).get(name)
        if isinstance(value, str):
            day = dt.date.fromisoformat(value[:10])
            yield _at(day + shift), rid, {"field": name, "date": day.isoformat()}


def _schedule(
    viewer: Viewer, rule: Rule, since: dt.datetime, now: dt.datetime, today: dt.date, cap: int
) -> Iterator[Firing]:
    trigger = rule.spec["trigger"]
    begin = dt.datetime.fromisoformat(trigger["start"])
    occurrences = dateutil_rrule.rrulestr(trigger["rrule"], dtstart=begin)
    found = occurrences.between(max(since, begin), now, inc=True, count=MAX_OCCURRENCES)
    if not found:
        return
    ids = list(
        _candidates(viewer, rule, trigger.get("type"), today)
        .order_by("id")
        .values_list("id", flat=True)[: cap + 1]
    )
    for at in found:
        for rid in ids:
            yield at, rid, {"at": at.isoformat()}


def firings(
    viewer: Viewer, rule: Rule, *, since: dt.datetime, now: dt.datetime, cap: int
) -> list[Firing]:
    """The firings of a time-based rule between ``since`` and ``now``, oldest first."""
    on = rule.spec["trigger"]["on"]
    today = now.astimezone(dt.UTC).date()
    start = since.astimezone(dt.UTC).date()
    if on == "no_contact":
        found: Iterator[Firing] = _no_contact(viewer, rule, start, today)
    elif on == "date_offset":
        found = _date_offset(viewer, rule, start, today)
    elif on == "schedule":
        found = _schedule(viewer, rule, since, now, today, cap)
    else:
        raise ValidationError(
            f"since: a {on} rule cannot be replayed: a saved list's past members are not "
            "kept (use rule test --record for one record)",
            field="since",
        )
    if on == "schedule":  # already oldest first, and possibly occurrences x records
        return list(islice(found, cap))
    return sorted(found, key=lambda f: (f[0], f[1]))[:cap]
