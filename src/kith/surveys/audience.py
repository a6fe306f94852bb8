"""Whom a survey asks: people, the people of organisations, saved views, conditions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Q

from kith.core import clock
from kith.core.errors import NotFound, ValidationError
from kith.core.viewer import Viewer
from kith.lists.selectors import member_ids
from kith.metrics.selectors import find_view
from kith.records import conditions
from kith.records.models import Record
from kith.records.selectors import resolve, visible_q
from kith.relationships.models import Relationship
from kith.relationships.selectors import team_ids


def check_audience(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{}`` (name people when sending), ``{"view": NAME}`` or ``{"condition": {...}}``."""
    doc = dict(value or {})
    if not doc:
        return {}
    if set(doc) == {"view"} and str(doc["view"]).strip():
        return {"view": " ".join(str(doc["view"]).split())}
    if set(doc) == {"condition"}:
        conditions.parse(doc["condition"], path="audience.condition")
        return {"condition": doc["condition"]}
    raise ValidationError(
        f"audience: {doc!r} is not {{'view': NAME}} or {{'condition': ...}}", field="audience"
    )


def _active(day: dt.date) -> Q:
    return (Q(since__isnull=True) | Q(since__lte=day)) & (Q(until__isnull=True) | Q(until__gt=day))


def staff_of(viewer: Viewer, orgs: Iterable[str], day: dt.date) -> list[Record]:
    """The people working at ``orgs`` on ``day`` (not our team), whom ``viewer`` may see."""
    team = set(team_ids(day))
    ids = (
        set(
            Relationship.objects.filter(
                _active(day), to_record_id__in=list(orgs), type__rollup=True
            ).values_list("from_record_id", flat=True)
        )
        - team
    )
    return list(
        Record.objects.filter(visible_q(viewer), pk__in=ids, type_id="person", deleted_at=None)
    )


def _expand(viewer: Viewer, records: Iterable[Record], day: dt.date) -> list[Record]:
    people = [r for r in records if r.type_id == "person"]
    orgs = [r.id for r in records if r.type_id != "person"]
    return people + (staff_of(viewer, orgs, day) if orgs else [])


def people_of(viewer: Viewer, refs: Iterable[str]) -> list[Record]:
    """Each reference is a record (a person, or an organisation: its people) or a saved
    view's name (its people, or the people of its organisations)."""
    day = clock.today()
    out: list[Record] = []
    for ref in refs:
        try:
            out += _expand(viewer, [resolve(viewer, ref, field="to")], day)
            continue
        except NotFound:
            pass
        try:
            view = find_view(viewer, ref, field="to")
        except NotFound:
            raise NotFound(f"to: no record or saved view matches {ref!r}", field="to") from None
        out += _view_people(viewer, view, day)
    return out


def _view_people(viewer: Viewer, view: Any, day: dt.date) -> list[Record]:
    ids = member_ids(viewer, view)
    return _expand(
        viewer, list(Record.objects.filter(visible_q(viewer), pk__in=ids, deleted_at=None)), day
    )


def audience_people(viewer: Viewer, survey: Any) -> list[Record]:
    """The people of the survey's audience (its saved view or condition)."""
    doc = survey.audience or {}
    day = clock.today()
    if "view" in doc:
        return _view_people(viewer, find_view(viewer, doc["view"], field="audience"), day)
    if "condition" in doc:
        cond = conditions.parse(doc["condition"], path="audience.condition")
        found = cond.filter(Record.objects.filter(visible_q(viewer), deleted_at=None))
        return _expand(viewer, list(found[:100_000]), day)
    raise ValidationError(
        f"to: survey {survey.name!r} has no audience; name people, organisations or a view",
        field="to",
    )


def accounts_of(viewer: Viewer, people: list[str], day: dt.date) -> dict[str, Record]:
    """Each person's account on ``day``: the organisation of their latest-started rollup
    tie (works_at) that ``viewer`` may see."""
    rows = (
        Relationship.objects.filter(_active(day), from_record_id__in=people, type__rollup=True)
        .filter(visible_q(viewer, "to_record__"), to_record__deleted_at=None)
        .select_related("to_record")
        .order_by("from_record_id", "-since", "id")
    )
    out: dict[str, Record] = {}
    for rel in rows:
        out.setdefault(rel.from_record_id, rel.to_record)
    return out
