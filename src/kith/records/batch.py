"""Writes of many records at once: the one insert path for records and contact points.

The bulk loader and importers call these (never their own INSERTs), so the column lists
and the checks live here once. Rows are plain tuples streamed through ``executemany``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection

from kith.core import clock
from kith.core.bulk import ChangeRow, execute_many, insert_changes, to_json
from kith.core.errors import Conflict, NotFound, ValidationError
from kith.core.viewer import Viewer
from kith.records.models import ContactPoint, Record, RecordType, Tag
from kith.records.normalize import name_key
from kith.records.selectors import visible_q
from kith.records.tags import clean_tag

RECORD_COLUMNS = (
    "id",
    "type_key",
    "name",
    "name_key",
    "fields",
    "version",
    "created_at",
    "updated_at",
    "private",
)
CONTACT_COLUMNS = ("record_id", "kind", "value", "normalized", "label", "primary")
# (id, type_key, name, fields)
NewRecord = tuple[str, str, str, dict[str, Any]]
# (record_id, kind, value, normalized, primary)
NewContact = tuple[str, str, str, str, bool]


def insert_records(
    rows: Sequence[NewRecord],
    *,
    at: Any,
    actor: str,
    source: str,
    snapshots: Mapping[str, dict[str, Any]] | None = None,
) -> int:
    """Insert new public records and their ``create`` history; refuses an unknown type.

    ``at`` is the database form of the time (``kith.core.bulk.time_adapter``);
    ``snapshots`` maps an id to the values its history entry records (default: none).
    """
    if not rows:
        return 0
    known = set(RecordType.objects.values_list("key", flat=True))
    out = []
    for rid, type_key, name, fields in rows:
        if type_key not in known:
            raise ValidationError(f"type: unknown record type {type_key!r} for {rid}", field="type")
        out.append((rid, type_key, name, name_key(name), json.dumps(fields), 1, at, at, False))
    execute_many(Record, RECORD_COLUMNS, out)
    note = source[:300]
    snaps = snapshots or {}
    history: list[ChangeRow] = [
        (
            r[0],
            "record",
            "create",
            "",
            None,
            to_json(snaps[r[0]]) if r[0] in snaps else None,
            actor,
            at,
            note,
        )
        for r in rows
    ]
    insert_changes(history)
    return len(out)


def insert_contacts(rows: Sequence[NewContact]) -> int:
    """Insert contact points of records (value and normalized form cut to 320 characters)."""
    return execute_many(
        ContactPoint,
        CONTACT_COLUMNS,
        [
            (rid, kind, value[:320], norm[:320], "", primary)
            for rid, kind, value, norm, primary in rows
        ],
    )


def insert_tags(rows: Sequence[tuple[str, str]]) -> int:
    """Tag records by (record id, tag) rows (cleaned as ``kith.records.tags`` does; a tag a
    record has already, in any case, is skipped); how many were added."""
    wanted: dict[tuple[str, str], str] = {}
    for rid, raw in rows:
        name, key = clean_tag(raw)
        wanted.setdefault((rid, key), name)
    have: set[tuple[str, str]] = set()
    ids = sorted({rid for rid, _ in wanted})
    for part in _parts(ids):
        have.update(Tag.objects.filter(record_id__in=part).values_list("record_id", "key"))
    now = clock.now()
    new = [
        Tag(record_id=rid, key=key, name=name, created_at=now)
        for (rid, key), name in wanted.items()
        if (rid, key) not in have
    ]
    Tag.objects.bulk_create(new, batch_size=1000)
    return len(new)


# (record_id, [(kind, shown value, normalized)], {field: value})
Extension = tuple[str, Sequence[tuple[str, str, str]], Mapping[str, Any]]
_LOOKUP = 500  # ids per IN (...) query


def _parts(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[i : i + _LOOKUP] for i in range(0, len(items), _LOOKUP)]


def _refuse_taken_emails(viewer: Viewer, wanted: dict[str, str]) -> None:
    """Refuse emails (normalized -> record to get it) another live record ``viewer`` sees holds.

    A record the viewer cannot see is not looked at: refusing would tell them it exists.
    """
    seen: dict[str, str] = {}
    for email, rid in wanted.items():
        if seen.setdefault(email, rid) != rid:
            raise Conflict(f"email: {email} is given to two records, {seen[email]} and {rid}")
    emails = sorted(wanted)
    for part in _parts(emails):
        rows = (
            ContactPoint.objects.filter(
                visible_q(viewer, "record__"),
                kind="email",
                normalized__in=part,
                record__deleted_at__isnull=True,
                record__merged_into__isnull=True,
            )
            .order_by("record_id")
            .values_list("normalized", "record_id", "record__name")
        )
        for email, holder, name in rows:
            if holder != wanted[email]:
                raise Conflict(
                    f"email: {email} is already {name}'s ({holder}); merge the two or "
                    "remove it there first",
                    field="email",
                )


def extend_records(
    items: Sequence[Extension], *, viewer: Viewer, at: Any, actor: str, source: str
) -> list[str]:
    """Add contact points and fill empty fields of existing records, many at once.

    The merge-into-existing rule of imports: a record keeps every value it has and takes
    only what it lacks (a contact point it does not have; a field it has no value for).
    Each changed record gets one version and field-level history, as ``update_record``
    writes it; an email another live record ``viewer`` may see holds is refused
    (Conflict). Returns the ids of the records that changed. ``at`` is the database form
    of the time (``kith.core.bulk.time_adapter``).
    """
    wanted: dict[str, tuple[list[tuple[str, str, str]], dict[str, Any]]] = {}
    for rid, contacts, fields in items:
        got = wanted.setdefault(rid, ([], {}))
        got[0].extend(c for c in contacts if c not in got[0])
        for key, value in fields.items():
            got[1].setdefault(key, value)
    if not wanted:
        return []
    ids = sorted(wanted)
    current: dict[str, tuple[str, dict[str, Any], int]] = {}
    have: dict[str, list[tuple[str, str, str, bool]]] = {i: [] for i in ids}
    for part in _parts(ids):
        rows = Record.objects.select_for_update().filter(pk__in=part)
        for rid, name, fields, version in rows.values_list("id", "name", "fields", "version"):
            current[rid] = (name, dict(fields or {}), version)
        cps = ContactPoint.objects.filter(record_id__in=part).order_by("-primary", "id")
        for rid, kind, value, norm, primary in cps.values_list(
            "record_id", "kind", "value", "normalized", "primary"
        ):
            have[rid].append((kind, value, norm, primary))
    missing = [i for i in ids if i not in current]
    if missing:
        raise NotFound(f"ref: no record matches {missing[0]!r}", field="ref")
    new_contacts: list[NewContact] = []
    updates: list[tuple[str, Any, str]] = []
    history: list[ChangeRow] = []
    changed: list[str] = []
    emails: dict[str, str] = {}
    note = source[:300]
    for rid in ids:
        name, fields, _ = current[rid]
        before = _snapshot(name, fields, have[rid])
        known = {(k, n) for k, _, n, _ in have[rid]}
        kinds = {k for k, _, _, p in have[rid] if p}
        added = []
        for kind, shown, norm in wanted[rid][0]:
            if (kind, norm) in known:
                continue
            known.add((kind, norm))
            added.append((kind, shown[:320], norm[:320], kind not in kinds))
            kinds.add(kind)
            if kind == "email":
                emails[norm] = rid
        filled = {k: v for k, v in wanted[rid][1].items() if k not in fields}
        if not added and not filled:
            continue
        after_contacts = sorted(
            [*have[rid], *added], key=lambda c: not c[3]
        )  # stable: primary first, then in the order they were added
        after = _snapshot(name, {**fields, **filled}, after_contacts)
        new_contacts.extend((rid, k, v, n, p) for k, v, n, p in added)
        updates.append((to_json({**fields, **filled}), at, rid))
        history.extend(
            (rid, "record", "update", key, _json(before.get(key)), _json(after.get(key)),
             actor, at, note)
            for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)
        )  # fmt: skip
        changed.append(rid)
    _refuse_taken_emails(viewer, emails)
    insert_contacts(new_contacts)
    if updates:
        qn = connection.ops.quote_name
        with connection.cursor() as cur:
            cur.executemany(
                f"UPDATE {qn(Record._meta.db_table)} SET {qn('fields')} = %s, "
                f"{qn('version')} = {qn('version')} + 1, {qn('updated_at')} = %s "
                f"WHERE {qn('id')} = %s",
                updates,
            )
    insert_changes(history)
    return changed


def _json(value: Any) -> str | None:
    return None if value is None else to_json(value)


def _snapshot(
    name: str, fields: Mapping[str, Any], contacts: Sequence[tuple[str, str, str, bool]]
) -> dict[str, Any]:
    """The flat values history compares (as ``records.services`` snapshots a record)."""
    snap: dict[str, Any] = {"name": name}
    for kind, value, _, _ in contacts:
        snap.setdefault(kind + "s", []).append(value)
    snap.update({f"fields.{k}": v for k, v in fields.items()})
    return snap
