"""Writes of the history and audit logs; other apps' services call these in their transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from kith.core import clock
from kith.core.context import current_actor, current_ip
from kith.core.models import AuditEvent, Change


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def record_change(
    *,
    entity_id: str,
    entity_kind: str,
    action: str,
    field: str = "",
    old: Any = None,
    new: Any = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Change:
    """Append one entry to the history of ``entity_id``."""
    return Change.objects.create(
        entity_id=entity_id,
        entity_kind=entity_kind,
        action=action,
        field=field,
        old=_jsonable(old),
        new=_jsonable(new),
        actor=current_actor(),
        at=at or clock.now(),
        note=note[:300],
    )


def record_field_changes(
    *, entity_id: str, entity_kind: str, before: dict[str, Any], after: dict[str, Any]
) -> list[Change]:
    """Record one ``update`` entry per field whose value differs between two snapshots."""
    now = clock.now()
    actor = current_actor()
    rows = [
        Change(
            entity_id=entity_id,
            entity_kind=entity_kind,
            action="update",
            field=key,
            old=_jsonable(before.get(key)),
            new=_jsonable(after.get(key)),
            actor=actor,
            at=now,
        )
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]
    return Change.objects.bulk_create(rows)


def audit(
    action: str,
    *,
    target: str = "",
    actor: str | None = None,
    ip: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append an entry to the admins' audit log.

    ``actor`` defaults to the acting user (:func:`kith.core.context.current_actor`), ``ip``
    to the address of the request being served (:func:`kith.core.context.current_ip`).
    """
    return AuditEvent.objects.create(
        action=action,
        actor=(actor if actor is not None else current_actor())[:254],
        target=target[:254],
        ip=(ip if ip is not None else current_ip())[:64],
        detail=dict(detail or {}),
    )
