"""Writes of relationships and relationship types; one transaction each, with history."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from kith.core import clock
from kith.core.bulk import ChangeRow, execute_many, insert_changes, to_json
from kith.core.errors import Conflict, ValidationError
from kith.core.events import publish
from kith.core.ids import new_id
from kith.core.parse import parse_date
from kith.core.services import audit, record_change
from kith.core.viewer import SYSTEM
from kith.records.models import Record
from kith.records.normalize import refuse_nul
from kith.records.selectors import get_type, resolve
from kith.records.services import add_person
from kith.relationships import selectors
from kith.relationships.models import Relationship, RelationshipType

_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def _slug(name: str, *, field: str) -> str:
    key = (name or "").strip().lower().replace("-", "_").replace(" ", "_")
    if not _SLUG.match(key):
        raise ValidationError(
            f"{field}: {name!r} must start with a letter and use only a-z, 0-9 and _ "
            f"(at most 60 characters)",
            field=field,
        )
    return key


def _overlap(a: list[str], b: list[str]) -> bool:
    return not a or not b or bool(set(a) & set(b))


def _check_readings(name: str, froms: list[str], tos: list[str], *, field: str) -> None:
    """Refuse a name that already reads ``from -> to`` between the same record types.

    A name may be shared only when the record types at its ends tell the readings apart
    (``parent_of`` person -> person and organisation -> organisation); otherwise every
    ``kith relate A NAME B`` with it would be ambiguous from then on.
    """
    for other, forward in selectors.candidate_types(name):
        ends = (other.from_types, other.to_types) if forward else (other.to_types, other.from_types)
        if _overlap(froms, ends[0]) and _overlap(tos, ends[1]):
            what = "the relationship type" if forward else "the inverse of"
            raise Conflict(
                f"{field}: {name!r} is already {what} {other.key!r} "
                f"({'|'.join(ends[0]) or 'any'} -> {'|'.join(ends[1]) or 'any'}); choose "
                "another name, or --from/--to record types that tell the two apart",
                field=field,
            )


@transaction.atomic
def add_type(
    *,
    name: str,
    inverse: str | None = None,
    symmetric: bool = False,
    from_types: Iterable[str] = (),
    to_types: Iterable[str] = (),
    rollup: bool = False,
) -> RelationshipType:
    """Define a relationship type: with an inverse name, or symmetric; audited."""
    key = _slug(name, field="name")
    if symmetric == bool(inverse):
        raise ValidationError("inverse: give either --inverse NAME or --symmetric", field="inverse")
    inv = _slug(inverse, field="inverse") if inverse else ""
    if inv == key:
        raise ValidationError(
            "inverse: use --symmetric when a type is its own inverse", field="inverse"
        )
    if RelationshipType.objects.filter(key=key).exists():
        raise Conflict(f"name: relationship type {key!r} already exists", field="name")
    froms = sorted({get_type(t, field="from").key for t in from_types})
    tos = sorted({get_type(t, field="to").key for t in to_types})
    if symmetric and froms != tos and froms and tos:
        raise ValidationError(
            "to: a symmetric type has the same record types at both ends", field="to"
        )
    if symmetric:
        froms = tos = froms or tos
    _check_readings(key, froms, tos, field="name")
    if inv:
        _check_readings(inv, tos, froms, field="inverse")
    rtype = RelationshipType.objects.create(
        key=key, inverse=inv, symmetric=symmetric, from_types=froms, to_types=tos, rollup=rollup
    )
    record_change(
        entity_id=f"reltype:{key}",
        entity_kind="reltype",
        action="create",
        new={"inverse": inv, "symmetric": symmetric, "from": froms, "to": tos},
    )
    audit(
        "reltype.added",
        target=key,
        detail={"inverse": inv, "symmetric": symmetric, "from": froms, "to": tos},
    )
    return rtype


@transaction.atomic
def add_person_at(
    *,
    name: str,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    title: str | None = None,
    fields: Mapping[str, Any] | None = None,
    org: str | None = None,
    role: str | None = None,
    since: str | dt.date | None = None,
) -> Record:
    """Create a person; with ``org``, also their ``works_at`` relationship with ``role``."""
    if role and not org:
        raise ValidationError("role: --role needs --org", field="role")
    person = add_person(name=name, emails=emails, phones=phones, title=title, fields=fields)
    if org:
        relate(
            a=person.id,
            type_name="works_at",
            b=org,
            role=role or title or "",
            since=since,
            b_field="org",
        )
    return person


@transaction.atomic
def relate(
    *,
    a: str,
    type_name: str,
    b: str,
    role: str = "",
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    note: str = "",
    source: str = "",
    if_exists: str = "error",
    a_field: str = "a",
    b_field: str = "b",
) -> Relationship:
    """Join ``a`` to ``b`` with a typed, dated relationship (``a TYPE b`` reads forwards).

    ``if_exists="return"`` makes re-adding an identical open relationship a no-op.
    """
    rec_a = resolve(SYSTEM, a, field=a_field)
    rec_b = resolve(SYSTEM, b, field=b_field)
    if rec_a.pk == rec_b.pk:
        raise ValidationError(f"{b_field}: a record cannot be related to itself", field=b_field)
    start = parse_date(since, field="since")
    end = parse_date(until, field="until")
    if start and end and end <= start:
        # until is the first day it no longer holds: until == since would hold on no day
        word = "before" if end < start else "the same day as"
        raise ValidationError(
            f"until: {end.isoformat()} is {word} since {start.isoformat()}; until is the "
            "first day it no longer holds, so it must be after since",
            field="until",
        )
    role = refuse_nul((role or "").strip(), field="role")
    note = refuse_nul(note or "", field="note")
    source = refuse_nul(source or "", field="source")
    rtype, forward = selectors.resolve_type(type_name, rec_a, rec_b)
    src, dst = (rec_a, rec_b) if forward else (rec_b, rec_a)
    same = Relationship.objects.filter(type=rtype, role=role, until__isnull=True, since=start)
    if rtype.symmetric:
        same = same.filter(Q(from_record=src, to_record=dst) | Q(from_record=dst, to_record=src))
    else:
        same = same.filter(from_record=src, to_record=dst)
    existing = same.first() if end is None else None
    if existing is not None:
        if if_exists == "return":
            return existing
        raise Conflict(
            f"{src.name} already {rtype.key} {dst.name} ({existing.id}); "
            "end it first or give a different role or date",
            field="type",
        )
    rel = Relationship.objects.create(
        id=new_id("rel"),
        type=rtype,
        from_record=src,
        to_record=dst,
        role=role[:200],
        since=start,
        until=end,
        note=note or "",
        source=source or "",
    )
    record_change(
        entity_id=rel.id,
        entity_kind="relationship",
        action="create",
        new={
            "from": src.id,
            "type": rtype.key,
            "to": dst.id,
            "role": role,
            "since": start,
            "until": end,
        },
    )
    publish("relationship.started", relationship_id=rel.id)
    return rel


@transaction.atomic
def end_relationship(*, rel_id: str, on: str | dt.date | None = None) -> Relationship:
    """End a relationship on a date (default today); it stays as history."""
    rel = selectors.get_relationship(rel_id)
    rel = Relationship.objects.select_for_update().select_related("type").get(pk=rel.pk)
    day = parse_date(on, field="on") or clock.local_today()
    if rel.until is not None and rel.until <= day:
        raise Conflict(f"rel_id: {rel.id} already ended on {rel.until.isoformat()}", field="rel_id")
    if rel.since is not None and day <= rel.since:
        # the end date is exclusive: ending on the first day would leave it holding on none
        word = "before" if day < rel.since else "the day"
        raise ValidationError(
            f"on: {day.isoformat()} is {word} the relationship began ({rel.since.isoformat()}); "
            "it ends on the first day it no longer holds, so after that",
            field="on",
        )
    old = rel.until
    rel.until = day
    rel.save(update_fields=["until"])
    record_change(
        entity_id=rel.id, entity_kind="relationship", action="end", field="until", old=old, new=day
    )
    publish("relationship.ended", relationship_id=rel.id)
    return rel


RELATIONSHIP_COLUMNS = (
    "id",
    "type_key",
    "from_record_id",
    "to_record_id",
    "role",
    "since",
    "until",
    "note",
    "source",
    "created_at",
)
# (id, type_key, from_id, to_id, role, since, until)
NewRelationship = tuple[str, str, str, str, str, dt.date | None, dt.date | None]


def insert_relationships(
    rows: Sequence[NewRelationship], *, at: Any, actor: str, source: str, history: bool = True
) -> int:
    """Insert many relationships (and, with ``history``, their ``create`` entries) at once.

    ``at`` is the database form of the time (``kith.core.bulk.time_adapter``). The types
    must exist; the ends are checked by the database (the bulk loader checks at commit).
    """
    if not rows:
        return 0
    known = set(RelationshipType.objects.values_list("key", flat=True))
    adapt = connection.ops.adapt_datefield_value
    out = []
    for rid, type_key, src, dst, role, since, until in rows:
        if type_key not in known:
            raise ValidationError(f"type: unknown relationship type {type_key!r}", field="type")
        out.append(
            (rid, type_key, src, dst, role[:200], adapt(since), adapt(until), "", source, at)
        )
    execute_many(Relationship, RELATIONSHIP_COLUMNS, out)
    if history:
        note = source[:300]
        changes: list[ChangeRow] = [
            (
                rid,
                "relationship",
                "create",
                "",
                None,
                to_json({"from": src, "type": type_key, "to": dst, "role": role}),
                actor,
                at,
                note,
            )
            for rid, type_key, src, dst, role, _, _ in rows
        ]
        insert_changes(changes)
    return len(out)
