"""Edits made on a phone come back through CardDAV as field changes of the person, with
history, guarded by the card's ETag (a stale one is a conflict, never an overwrite)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kith.capture.addressbook import etag_of
from kith.core.errors import Conflict, NotFound, ValidationError
from kith.core.viewer import Viewer
from kith.imports.vcard import card_units
from kith.records.models import ContactPoint, Record
from kith.records.normalize import normalize_email
from kith.records.selectors import can_see
from kith.records.services import update_record


class PreconditionFailed(Conflict):
    """The card changed since the client read it (HTTP 412)."""


@transaction.atomic
def apply_card(*, viewer: Viewer, record_id: str, text: str, if_match: str | None) -> Record:
    """Apply a vCard PUT by ``viewer`` to an existing person: the name, a new email and a
    new phone become field changes (history, events); nothing is deleted from a phone."""
    record = Record.objects.select_for_update().filter(pk=record_id, type_id="person").first()
    if record is None or record.deleted_at is not None or not can_see(viewer, record):
        raise NotFound(f"card: no contact {record_id!r}", field="card")
    current = etag_of(record.id, record.version)
    if if_match is None:
        raise PreconditionFailed(
            f"If-Match: {record.id} exists; send its ETag (now {current}) to change it",
            field="If-Match",
        )
    if if_match.strip() not in (current, "*"):
        raise PreconditionFailed(
            f"If-Match: {record.id} changed since {if_match.strip()} (now {current}); fetch it "
            "again",
            field="If-Match",
        )
    units = list(card_units(text))
    if len(units) != 1 or units[0].record is None:
        raise ValidationError("card: send exactly one vCard", field="card")
    if units[0].error is not None:
        raise ValidationError(f"card: {units[0].error.line()}", field="card")
    got: dict[str, list[str]] = {}
    for target, _, value in units[0].record.values:
        got.setdefault(target, []).append(value.strip())
    values: dict[str, Any] = {}
    name = (got.get("name") or [""])[0]
    if name and name != record.name:
        values["name"] = name
    have = {
        (k, n)
        for k, n in ContactPoint.objects.filter(record=record).values_list("kind", "normalized")
    }
    for email in got.get("email", [])[:1]:
        if ("email", normalize_email(email, field="EMAIL")) not in have:
            values["email"] = email
    have_phones = {v for k, v in have if k == "phone"}
    for phone in got.get("phone", [])[:1]:
        digits = "".join(c for c in phone if c.isdigit())
        if not any(digits and digits in "".join(c for c in p if c.isdigit()) for p in have_phones):
            values["phone"] = phone
    if not values:
        return record
    return update_record(ref=record.id, values=values, expected_version=record.version, by=viewer)
