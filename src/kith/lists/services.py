"""Writes of record lists: save and delete a user's named views; bulk actions on a list."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kith.accounts.selectors import get_user
from kith.accounts.services import set_owner
from kith.core.errors import KithError, NotFound, ValidationError
from kith.core.services import audit
from kith.core.viewer import Viewer
from kith.lists.models import SavedView
from kith.lists.selectors import selected
from kith.records.models import Record
from kith.records.selectors import get_type
from kith.records.services import delete_record, update_record
from kith.records.tags import tag_records, untag_records

NAME_MAX = 80


@transaction.atomic
def save_view(
    *, viewer: Viewer, type_key: str, name: str, query: dict[str, list[str]]
) -> SavedView:
    """Save (or replace) the viewer's list view ``name`` of ``type_key``; returns the view."""
    if viewer.user_id is None:
        raise ValidationError("user: a saved view belongs to a signed-in user", field="user")
    clean = " ".join((name or "").split())
    if not clean:
        raise ValidationError("name: give the view a name", field="name")
    if len(clean) > NAME_MAX:
        raise ValidationError(f"name: longer than {NAME_MAX} characters", field="name")
    view, _ = SavedView.objects.update_or_create(
        user_id=viewer.user_id, type_key=type_key, name=clean, defaults={"query": query}
    )
    return view


@transaction.atomic
def delete_view(*, viewer: Viewer, view_id: int) -> str:
    """Delete one of the viewer's saved views (another user's is not found, except by an
    admin); returns its type."""
    views = SavedView.objects.filter(pk=view_id)
    if not viewer.sees_everything:
        views = views.filter(user_id=viewer.user_id) if viewer.user_id is not None else views.none()
    view = views.first()
    if view is None:
        raise NotFound(f"view: no saved view {view_id}", field="view")
    view.delete()
    return view.type_key


# -- bulk actions on a list or a selection of its rows ---------------------------------------

BULK_ACTIONS = ("tag", "untag", "owner", "set", "delete")
BULK_MAX = 10_000


def _one_of(record: Record, exc: KithError) -> KithError:
    """``exc`` naming the record it was raised for (the first one that failed)."""
    exc.message = f"{record.name} ({record.id}): {exc.message}"
    exc.args = (exc.message,)
    return exc


@transaction.atomic
def bulk_action(
    *,
    viewer: Viewer,
    type_key: str,
    params: dict[str, list[str]],
    action: str,
    ids: list[str] | None = None,
    value: str = "",
    field: str = "",
) -> dict[str, Any]:
    """Do ``action`` to every record of the list ``params`` names for ``viewer`` (or to the
    selected ``ids`` among them), all in one transaction: the first record it fails for
    names itself and nothing is changed.

    ``tag``/``untag`` VALUE, ``owner`` VALUE (a user's email; empty: nobody), ``set``
    FIELD=VALUE (empty clears it) and ``delete`` (soft, restorable). Audited once.
    """
    if action not in BULK_ACTIONS:
        raise ValidationError(
            f"action: {action[:40]!r} is not one of {', '.join(BULK_ACTIONS)}", field="action"
        )
    rtype = get_type(type_key)
    records = list(
        selected(viewer, rtype.key, params, ids=ids).select_related("owner")[: BULK_MAX + 1]
    )
    if len(records) > BULK_MAX:
        raise ValidationError(
            f"ids: a bulk action takes at most {BULK_MAX:,} records; narrow the list", field="ids"
        )
    if not records:
        raise ValidationError("ids: no record in this list to act on", field="ids")
    changed = 0
    if action in ("tag", "untag"):
        do = tag_records if action == "tag" else untag_records
        changed = do(records=records, tags=[value], field="value")
    elif action == "owner":
        owner = get_user(value.strip(), field="value") if value.strip() else None
        changed = set_owner(records=records, owner=owner, by=viewer)
    elif action == "set":
        name = field.strip()
        if not name:
            raise ValidationError("field: name the field to set", field="field")
        for record in records:
            try:
                before = record.version
                done = update_record(ref=record.id, values={name: value}, by=viewer)
            except KithError as exc:
                raise _one_of(record, exc) from None
            changed += done.version != before
    else:
        for record in records:
            delete_record(ref=record.id)
        changed = len(records)
    audit(
        f"bulk.{action}",
        target=rtype.key,
        detail={"records": len(records), "changed": changed, "value": value, "field": field},
    )
    return {
        "action": action,
        "type": rtype.key,
        "records": len(records),
        "changed": changed,
        "ids": [r.id for r in records],
    }
