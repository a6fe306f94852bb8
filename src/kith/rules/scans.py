"""Time-based triggers, scanned periodically by the worker: each rule's candidates only.

- ``no_contact``: people matching the rule's conditions whose last two-way contact (the
  pair table's newest two-way day) is older than N days: one firing per silence (keyed on
  that day), so a reply and a new silence fire again.
- ``date_offset``: records whose date field plus N days falls between the previous scan
  and today (a missed day is made up), keyed on the date.
- ``schedule``: at each RRULE occurrence, every record matching the rule's type and
  conditions, keyed on the occurrence.
- ``list.entered`` / ``list.left``: the saved list's members (as its owner sees them)
  against those the rule saw last time; the first scan only takes the baseline.

A scan writes ``RuleEvent`` rows (batches of record ids) that ``engine.drain`` runs like
any event, so runs, traces and limits are the same. The query of each scan is the rule's
condition compiled to SQL (``Condition.q``) over the rule's record type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT

from kith.accounts.selectors import viewer_of
from kith.core import clock
from kith.core.errors import KithError
from kith.core.viewer import SYSTEM
from kith.intelligence.models import PairStat
from kith.lists.models import SavedView
from kith.lists.selectors import member_ids
from kith.records import conditions
from kith.records.models import Record
from kith.relationships.selectors import team_ids
from kith.rules.engine import sweep_timed_out
from kith.rules.models import Enrolment, ListMember, Rule, RuleEvent
from kith.rules.spec import TIME_TRIGGERS, next_fire

BATCH = 500
MAX_CATCH_UP_DAYS = 31
BASELINE = ""  # the ListMember row that says a list's baseline was taken


def _candidates(rule: Rule, type_key: str | None, today: dt.date) -> QuerySet[Record]:
    qs = Record.objects.filter(deleted_at__isnull=True, merged_into__isnull=True)
    if type_key:
        qs = qs.filter(type_id=type_key)
    cond = rule.spec.get("conditions")
    if cond is not None:
        qs = qs.filter(conditions.parse(cond).q(today=today))
    return qs


def _fired(rule: Rule, keys: dict[str, str]) -> set[str]:
    """Of ``keys`` (record -> key), the records the rule already fired for with that key."""
    if not keys:
        return set()
    rows = Enrolment.objects.filter(rule=rule, record_id__in=list(keys)).values_list(
        "record_id", "key"
    )
    return {rid for rid, key in rows if keys.get(rid) == key}


def _queue(rule: Rule, keys: dict[str, str], event: str) -> int:
    fresh = {rid: key for rid, key in keys.items() if rid not in _fired(rule, keys)}
    ids = sorted(fresh)
    for start in range(0, len(ids), BATCH):
        part = ids[start : start + BATCH]
        RuleEvent.objects.create(
            event=event,
            payload={"record_ids": part, "keys": {rid: fresh[rid] for rid in part}},
            rule_ids=[rule.id],
        )
    return len(ids)


def scan_no_contact(rule: Rule, today: dt.date) -> int:
    days = rule.spec["trigger"]["days"]
    last = (
        PairStat.objects.filter(person_id=OuterRef("pk"), n_two__gt=0)
        .order_by("-day")
        .values("day")[:1]
    )
    qs = (
        _candidates(rule, "person", today)
        .exclude(pk__in=team_ids(today))
        .annotate(last_two_way=Subquery(last))
        .filter(last_two_way__lt=today - dt.timedelta(days=days))
    )
    keys = {rid: f"silence:{day}" for rid, day in qs.values_list("id", "last_two_way")}
    return _queue(rule, keys, "no_contact")


def scan_date_offset(rule: Rule, today: dt.date) -> int:
    trigger = rule.spec["trigger"]
    name, days = trigger["field"], trigger["days"]
    since = (rule.last_scan_at or clock.now()).astimezone(dt.UTC).date()
    since = max(since, today - dt.timedelta(days=MAX_CATCH_UP_DAYS))
    low, high = since - dt.timedelta(days=days), today - dt.timedelta(days=days)
    window = conditions.parse(
        {
            "all": [
                {"field": name, "op": "gte", "value": low.isoformat()},
                {"field": name, "op": "lte", "value": high.isoformat()},
            ]
        },
        path="trigger",
    )
    qs = _candidates(rule, trigger.get("type"), today).filter(window.q(today=today))
    rows = qs.annotate(day=KT(f"fields__{name}")).values_list("id", "day")
    keys = {rid: f"{name}={day}" for rid, day in rows}
    return _queue(rule, keys, "date_offset")


def scan_schedule(rule: Rule, today: dt.date, now: dt.datetime) -> int:
    trigger = rule.spec["trigger"]
    after = rule.last_scan_at or rule.created_at
    due = next_fire(trigger, after)
    if due is None or due > now:
        return 0
    qs = _candidates(rule, trigger.get("type"), today)
    keys = {rid: f"at={due.isoformat()}" for rid in qs.values_list("id", flat=True)}
    return _queue(rule, keys, "schedule")


def scan_list(rule: Rule) -> int:
    trigger = rule.spec["trigger"]
    view = SavedView.objects.filter(pk=trigger["list"]).first()
    if view is None:
        return 0
    user = get_user_model().objects.filter(pk=view.user_id).first()
    viewer = viewer_of(user) if user is not None else SYSTEM
    now_in = member_ids(viewer, view)
    rows = set(ListMember.objects.filter(rule=rule).values_list("record_id", flat=True))
    baseline = BASELINE in rows
    before = rows - {BASELINE}
    entered, left = now_in - before, before - now_in
    ListMember.objects.filter(rule=rule, record_id__in=list(left)).delete()
    ListMember.objects.bulk_create([ListMember(rule=rule, record_id=rid) for rid in entered])
    if not baseline:
        ListMember.objects.create(rule=rule, record_id=BASELINE)
        return 0
    changed = entered if trigger["on"] == "list.entered" else left
    stamp = clock.now().isoformat()
    return _queue(rule, {rid: f"{trigger['on']}@{stamp}" for rid in changed}, trigger["on"])


def scan_rule(rule: Rule, *, now: dt.datetime | None = None) -> int:
    """Queue the firings one time-based rule has due now; returns how many records."""
    moment = now or clock.now()
    today = moment.astimezone(dt.UTC).date()
    on = rule.spec["trigger"]["on"]
    with transaction.atomic():
        if on == "no_contact":
            n = scan_no_contact(rule, today)
        elif on == "date_offset":
            n = scan_date_offset(rule, today)
        elif on == "schedule":
            n = scan_schedule(rule, today, moment)
        else:
            n = scan_list(rule)
        Rule.objects.filter(pk=rule.pk).update(last_scan_at=moment)
    return n


def scan(*, now: dt.datetime | None = None, rules: Iterable[Rule] | None = None) -> dict[str, Any]:
    """Scan every enabled time-based rule, and mark runs stuck past their time-out."""
    chosen = (
        list(rules)
        if rules is not None
        else list(
            Rule.objects.filter(enabled=True, trigger__in=list(TIME_TRIGGERS)).order_by("name")
        )
    )
    out: dict[str, Any] = {"rules": {}, "errors": {}}
    for rule in chosen:
        try:
            out["rules"][rule.name] = scan_rule(rule, now=now)
        except KithError as exc:  # e.g. a field its conditions name was removed
            out["errors"][rule.name] = exc.message
    out["timed_out"] = sweep_timed_out()
    return out
