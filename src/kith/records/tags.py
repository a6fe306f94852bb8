"""Writes of tags: add and remove a record's tags, one record or many at once.

A tag is a short label (no commas, at most 40 characters) kept once per record whatever
its case. Every change is one transaction, recorded in the record's history as its
``tags`` field, bumps the record's version and publishes ``record.updated``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction

from kith.core import clock
from kith.core.errors import ValidationError
from kith.core.events import publish
from kith.core.services import record_change
from kith.core.viewer import SYSTEM, Viewer
from kith.records.models import Record, Tag
from kith.records.selectors import resolve

TAG_MAX = 40


def clean_tag(raw: object, *, field: str = "tag") -> tuple[str, str]:
    """``(name, key)`` of a tag as typed: spaces collapsed, refused when empty or too long."""
    name = " ".join(str(raw or "").split())
    if not name:
        raise ValidationError(f"{field}: give a tag", field=field)
    if "," in name or len(name) > TAG_MAX:
        raise ValidationError(
            f"{field}: {name[:60]!r}: a tag has no commas and at most {TAG_MAX} characters",
            field=field,
        )
    return name, name.casefold()


def split_tags(raw: str, *, field: str = "tags") -> list[str]:
    """The tags of a cell as importers find them ("a, b", "a ::: b", "a;b"), cleaned."""
    parts = raw.replace(":::", ",").replace(";", ",").split(",")
    seen: dict[str, str] = {}
    for part in parts:
        if part.strip():
            name, key = clean_tag(part, field=field)
            seen.setdefault(key, name)
    return list(seen.values())


def _changed(records: Sequence[Record], before: dict[str, list[str]]) -> None:
    """History, version and event of every record whose tags changed."""
    now = clock.now()
    after = _current(r.id for r in records)
    for r in records:
        old, new = before.get(r.id, []), after.get(r.id, [])
        if old == new:
            continue
        Record.objects.filter(pk=r.pk).update(version=r.version + 1, updated_at=now)
        r.version += 1
        r.updated_at = now
        record_change(
            entity_id=r.id, entity_kind="record", action="update", field="tags", old=old, new=new
        )
        publish("record.updated", record_id=r.id, type_key=r.type_id, changes={"tags": [old, new]})


def _current(ids: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rid, name in (
        Tag.objects.filter(record_id__in=list(ids)).order_by("key").values_list("record_id", "name")
    ):
        out.setdefault(rid, []).append(name)
    return out


@transaction.atomic
def tag_records(*, records: Sequence[Record], tags: Iterable[str], field: str = "tag") -> int:
    """Add ``tags`` to each of ``records`` (already chosen and visible); how many were added."""
    cleaned = dict(clean_tag(t, field=field)[::-1] for t in tags)
    if not cleaned or not records:
        return 0
    ids = [r.id for r in records]
    before = _current(ids)
    have = set(
        Tag.objects.filter(record_id__in=ids, key__in=list(cleaned)).values_list("record_id", "key")
    )
    now = clock.now()
    rows = [
        Tag(record_id=rid, name=name, key=key, created_at=now)
        for rid in ids
        for key, name in cleaned.items()
        if (rid, key) not in have
    ]
    Tag.objects.bulk_create(rows, batch_size=1000)
    _changed(records, before)
    return len(rows)


@transaction.atomic
def untag_records(*, records: Sequence[Record], tags: Iterable[str], field: str = "tag") -> int:
    """Remove ``tags`` from each of ``records``; how many were removed."""
    keys = [clean_tag(t, field=field)[1] for t in tags]
    if not keys or not records:
        return 0
    ids = [r.id for r in records]
    before = _current(ids)
    removed, _ = Tag.objects.filter(record_id__in=ids, key__in=keys).delete()
    _changed(records, before)
    return removed


def _locked(ref: str, by: Viewer) -> Record:
    found = resolve(by, ref)
    return Record.objects.select_for_update().get(pk=found.pk)


@transaction.atomic
def add_tag(*, ref: str, tag: str, by: Viewer = SYSTEM) -> tuple[Record, bool]:
    """Tag the record ``ref`` names (for ``by``); the record and whether the tag is new."""
    record = _locked(ref, by)
    added = tag_records(records=[record], tags=[tag])
    return record, bool(added)


@transaction.atomic
def remove_tag(*, ref: str, tag: str, by: Viewer = SYSTEM) -> tuple[Record, bool]:
    """Untag the record ``ref`` names; the record and whether it had the tag."""
    record = _locked(ref, by)
    removed = untag_records(records=[record], tags=[tag])
    return record, bool(removed)


def tags_now(record_id: str) -> list[str]:
    """The record's tags in name order (for the answer of a write)."""
    return list(
        Tag.objects.filter(record_id=record_id).order_by("key").values_list("name", flat=True)
    )
