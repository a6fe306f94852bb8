"""Writes of records. Every function is one transaction and records its history."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models, transaction

from kith.core import clock
from kith.core.errors import Conflict, KithError, ValidationError
from kith.core.events import publish
from kith.core.ids import new_id
from kith.core.services import audit, record_change, record_field_changes
from kith.core.viewer import SYSTEM, Viewer
from kith.records import selectors
from kith.records.models import (
    ContactPoint,
    FieldDef,
    FieldKind,
    Record,
    RecordType,
    WorkspaceSettings,
)
from kith.records.normalize import (
    check_birthday,
    clean_name,
    coerce_value,
    name_key,
    normalize_domain,
    normalize_email,
    normalize_phone,
    normalize_url,
)

# Values that live in contact points rather than in the fields dict.
CONTACT_FIELDS = {"email": "email", "phone": "phone", "domain": "domain"}
_NORMALIZERS = {
    "email": normalize_email,
    "phone": normalize_phone,
    "domain": normalize_domain,
    "url": normalize_url,
}
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _snapshot(record: Record) -> dict[str, Any]:
    """Every user-visible value of a record, flat, for field-level history."""
    snap: dict[str, Any] = {"name": record.name}
    for c in ContactPoint.objects.filter(record=record).order_by("-primary", "id"):
        key = c.kind + "s"
        snap.setdefault(key, []).append(c.value)
    snap.update({f"fields.{k}": v for k, v in record.fields.items()})
    return snap


def _validate_fields(
    rtype: RecordType, values: Mapping[str, Any], *, creating: bool, current: dict[str, Any]
) -> dict[str, Any]:
    defs = {f.name: f for f in selectors.field_defs(rtype.key)}
    out = dict(current)
    for key, raw in values.items():
        fdef = defs.get(key)
        if fdef is None:
            known = ", ".join(sorted(defs)) or "none"
            raise ValidationError(
                f"{key}: {rtype.key} has no field {key!r} (fields: {known})", field=key
            )
        if raw is None or raw == "":
            if fdef.required:
                raise ValidationError(f"{key}: is required for {rtype.key}", field=key)
            out.pop(key, None)
            continue
        out[key] = coerce_value(fdef.kind, raw, field=key, choices=fdef.choices)
        if fdef.kind == FieldKind.DATE:
            check_birthday(key, out[key], field=key)
    if creating:
        missing = [n for n, f in defs.items() if f.required and n not in out]
        if missing:
            raise ValidationError(f"{missing[0]}: is required for {rtype.key}", field=missing[0])
    return out


def _refuse_taken_email(record: Record, normalized: str, by: Viewer) -> None:
    """Refuse an email another live record has: ``kith show EMAIL`` must stay one record.

    Only records ``by`` may see count: a holder hidden from them neither blocks the write
    nor is hinted at (refusing would tell them the address is in the workspace). The
    second record is then a duplicate that the review shows to whoever sees both, as an
    import by the same viewer would make it."""
    holder = (
        ContactPoint.objects.filter(
            kind="email",
            normalized=normalized,
            record__deleted_at__isnull=True,
            record__merged_into__isnull=True,
        )
        .filter(selectors.visible_q(by, "record__"))
        .exclude(record_id=record.pk)
        .select_related("record")
        .order_by("record_id")
        .first()
    )
    if holder is None:
        return
    other = holder.record
    raise Conflict(
        f"email: {normalized} is already {other.name}'s ({other.id}); merge the two or remove "
        "it there first",
        field="email",
    )


def _add_contact(
    record: Record, kind: str, value: str, *, by: Viewer, primary: bool = False
) -> None:
    normalized = _NORMALIZERS[kind](value, field=kind)
    shown = value.strip() if kind != "email" else normalized
    if kind == "email":
        _refuse_taken_email(record, normalized, by)
    existing = ContactPoint.objects.filter(record=record, kind=kind, normalized=normalized).first()
    if primary:
        ContactPoint.objects.filter(record=record, kind=kind).update(primary=False)
    if existing is not None:
        if primary and not existing.primary:
            existing.primary = True
            existing.save(update_fields=["primary"])
        return
    has_primary = ContactPoint.objects.filter(record=record, kind=kind, primary=True).exists()
    ContactPoint.objects.create(
        record=record,
        kind=kind,
        value=shown,
        normalized=normalized,
        primary=primary or not has_primary,
    )


def _check_type_allows_contact(rtype: RecordType, kind: str) -> None:
    if kind == "domain" and rtype.key == "person":
        raise ValidationError("domain: people have emails, not domains", field="domain")


@transaction.atomic
def add_record(
    *,
    type_key: str,
    name: str,
    fields: Mapping[str, Any] | None = None,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    domains: Iterable[str] = (),
    urls: Iterable[str] = (),
    by: Viewer = SYSTEM,
) -> Record:
    """Create a record of any type with validated fields and contact points, written by
    ``by`` (an email only a record hidden from them has is no conflict for them)."""
    rtype = selectors.get_type(type_key)
    cleaned = clean_name(name)
    values = _validate_fields(rtype, fields or {}, creating=True, current={})
    now = clock.now()
    record = Record.objects.create(
        id=new_id(rtype.id_prefix),
        type=rtype,
        name=cleaned,
        name_key=name_key(cleaned),
        fields=values,
        created_at=now,
        updated_at=now,
    )
    for kind, items in (("email", emails), ("phone", phones), ("domain", domains), ("url", urls)):
        for item in items:
            if item and item.strip():
                _check_type_allows_contact(rtype, kind)
                _add_contact(record, kind, item, by=by)
    record_change(entity_id=record.id, entity_kind="record", action="create", new=_snapshot(record))
    publish("record.created", record_id=record.id, type_key=record.type_id)
    return record


@transaction.atomic
def add_person(
    *,
    name: str,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    title: str | None = None,
    fields: Mapping[str, Any] | None = None,
) -> Record:
    """Create a person (with an employer: ``kith.relationships.services.add_person_at``)."""
    values = dict(fields or {})
    if title:
        values["title"] = title
    return add_record(type_key="person", name=name, fields=values, emails=emails, phones=phones)


def add_organization(
    *, name: str, domains: Iterable[str] = (), fields: Mapping[str, Any] | None = None
) -> Record:
    """Create an organisation with its web domains."""
    return add_record(type_key="organization", name=name, fields=fields, domains=domains)


def parse_field_spec(spec: str) -> tuple[str, str, list[str], bool]:
    """Parse ``NAME:KIND`` (``choice:a|b|c``, trailing ``!`` = required) into parts."""
    text = spec.strip()
    required = text.endswith("!")
    text = text.rstrip("!")
    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise ValidationError(
            f"--field: {spec!r} is not NAME:KIND (kinds: {', '.join(FieldKind.values)})",
            field="field",
        )
    fname, kind = parts[0].strip().lower(), parts[1].strip().lower()
    if kind not in FieldKind.values:
        raise ValidationError(
            f"--field: {kind!r} in {spec!r} is not a field kind "
            f"(kinds: {', '.join(FieldKind.values)})",
            field="field",
        )
    choices = [c.strip() for c in re.split(r"[|,]", parts[2])] if len(parts) == 3 else []
    choices = [c for c in choices if c]
    if kind == "choice" and not choices:
        raise ValidationError(
            f"--field: choice field {fname!r} needs its options, e.g. {fname}:choice:gold|silver",
            field="field",
        )
    if kind != "choice" and choices:
        raise ValidationError(f"--field: only choice fields take options ({spec!r})", field="field")
    return fname, kind, choices, required


def _check_slug(name: str, *, field: str) -> str:
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if not _SLUG.match(key):
        raise ValidationError(
            f"{field}: {name!r} must start with a letter and use only a-z, 0-9 and _ "
            f"(at most 40 characters)",
            field=field,
        )
    return key


def _lookup_words() -> frozenset[str]:
    """Django's lookup and transform names (``isnull``, ``contains``, ``year`` ...)."""
    words: set[str] = set()
    for model_field in (models.JSONField(), models.CharField(), models.DateTimeField()):
        words |= set(model_field.get_lookups())
    return frozenset(words)


def _check_field_name(name: str) -> str:
    """Refuse a field name that a filter would read as lookup syntax (``a__b``, ``isnull``)."""
    if "__" in name or name.endswith("_") or name in _lookup_words():
        raise ValidationError(
            f"field: {name!r} cannot name a field: it reads as filter syntax "
            "(no double underscores, no trailing underscore, not a lookup such as isnull, "
            f"contains or year); try a longer name such as {name.strip('_')}_value",
            field="field",
        )
    return name


def _unique_prefix(key: str) -> str:
    base = key[:3]
    taken = set(RecordType.objects.values_list("id_prefix", flat=True))
    candidate, n = base, 1
    while candidate in taken or candidate in {"rel", "int"}:
        n += 1
        candidate = f"{base}{n}"
    return candidate


@transaction.atomic
def define_type(*, key: str, label: str | None = None, fields: Iterable[str] = ()) -> RecordType:
    """Define a custom record type with typed fields given as ``NAME:KIND`` specs; audited."""
    specs = list(fields)
    slug = _check_slug(key, field="type")
    if slug in selectors.TYPE_ALIASES or RecordType.objects.filter(key=slug).exists():
        raise Conflict(f"type: record type {slug!r} already exists", field="type")
    rtype = RecordType.objects.create(
        key=slug, label=label or slug.replace("_", " ").title(), id_prefix=_unique_prefix(slug)
    )
    for spec in specs:
        _add_field(type_key=slug, spec=spec)
    record_change(
        entity_id=f"type:{slug}", entity_kind="type", action="create", new={"fields": specs}
    )
    audit("type.defined", target=rtype.key, detail={"label": rtype.label, "fields": specs})
    return rtype


@transaction.atomic
def add_field(*, type_key: str, spec: str) -> FieldDef:
    """Add a typed field (``NAME:KIND``) to a record type; audited."""
    fdef = _add_field(type_key=type_key, spec=spec)
    audit("type.field_added", target=fdef.record_type_id, detail={"field": spec})
    return fdef


def _add_field(*, type_key: str, spec: str) -> FieldDef:
    rtype = selectors.get_type(type_key)
    fname, kind, choices, required = parse_field_spec(spec)
    fname = _check_field_name(_check_slug(fname, field="field"))
    if fname in {"name", *CONTACT_FIELDS}:
        raise ValidationError(f"--field: {fname!r} is a built-in attribute", field="field")
    if FieldDef.objects.filter(record_type=rtype, name=fname).exists():
        raise Conflict(f"--field: {rtype.key} already has a field {fname!r}", field="field")
    if required and Record.objects.filter(type=rtype).exists():
        raise ValidationError(
            f"--field: cannot add required field {fname!r}: {rtype.key} records exist without it",
            field="field",
        )
    return FieldDef.objects.create(
        record_type=rtype, name=fname, kind=kind, choices=choices, required=required
    )


def _lock(ref: str, *, include_deleted: bool = False) -> Record:
    record = selectors.resolve(SYSTEM, ref, include_deleted=include_deleted)
    # re-read under the write transaction so concurrent writers see each other's versions
    return Record.objects.select_for_update().select_related("type").get(pk=record.pk)


@transaction.atomic
def update_record(
    *,
    ref: str,
    values: Mapping[str, Any],
    expected_version: int | None = None,
    by: Viewer = SYSTEM,
) -> Record:
    """Set fields (``name``, ``email``, ``phone``, ``domain`` or typed fields) on a record."""
    if not values:
        raise ValidationError("--set: nothing to change", field="set")
    record = _lock(ref)
    if expected_version is not None and record.version != expected_version:
        raise Conflict(
            f"version: {record.id} is at version {record.version}, not {expected_version}; "
            "reload it and try again",
            field="version",
        )
    before = _snapshot(record)
    plain = {k: v for k, v in values.items() if k != "name" and k not in CONTACT_FIELDS}
    record.fields = _validate_fields(record.type, plain, creating=False, current=record.fields)
    if "name" in values:
        record.name = clean_name(str(values["name"]))
        record.name_key = name_key(record.name)
    for key, kind in CONTACT_FIELDS.items():
        if key not in values:
            continue
        _check_type_allows_contact(record.type, kind)
        raw = str(values[key] or "").strip()
        if raw:
            _add_contact(record, kind, raw, by=by, primary=True)
        else:
            ContactPoint.objects.filter(record=record, kind=kind, primary=True).delete()
    after = _snapshot(record)
    if after == before:
        return record
    record.version += 1
    record.updated_at = clock.now()
    record.save(update_fields=["name", "name_key", "fields", "version", "updated_at"])
    record_field_changes(entity_id=record.id, entity_kind="record", before=before, after=after)
    changes = {
        k: [before.get(k), after.get(k)]
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }
    publish("record.updated", record_id=record.id, type_key=record.type_id, changes=changes)
    return record


@transaction.atomic
def delete_record(*, ref: str) -> Record:
    """Soft-delete a record: hidden from lists and references, restorable."""
    record = _lock(ref)
    record.deleted_at = clock.now()
    record.version += 1
    record.save(update_fields=["deleted_at", "version"])
    record_change(entity_id=record.id, entity_kind="record", action="delete")
    publish("record.deleted", record_id=record.id)
    return record


@transaction.atomic
def restore_record(*, ref: str) -> Record:
    """Bring back a soft-deleted record."""
    record = _lock(ref, include_deleted=True)
    if record.deleted_at is None:
        raise ValidationError(f"ref: {record.name} ({record.id}) is not deleted", field="ref")
    record.deleted_at = None
    record.version += 1
    record.save(update_fields=["deleted_at", "version"])
    record_change(entity_id=record.id, entity_kind="record", action="restore")
    publish("record.restored", record_id=record.id)
    return record


@transaction.atomic
def init_workspace(
    *, home: str | None = None, domains: Iterable[str] = (), change_home: bool = False
) -> dict[str, Any]:
    """Set (creating if needed) the home organisation and its email domains.

    Once a workspace has a home organisation, naming another one is refused unless
    ``change_home`` says the switch is meant: "our team" and every score follow the home.
    """
    if change_home and not (home and home.strip()):
        raise ValidationError("change_home: --change-home needs --home NAME", field="change_home")
    settings, _ = WorkspaceSettings.objects.get_or_create(pk=1)
    domains = [d for d in domains if d and d.strip()]
    if home:
        current = selectors.home_org()
        org: Record | None
        try:
            org = selectors.resolve(SYSTEM, home, type_key="organization", field="home")
        except KithError as exc:
            if exc.code != "not_found":
                raise
            org = None
        if current is not None and not change_home and (org is None or org.pk != current.pk):
            raise Conflict(
                f"home: the home organisation is already {current.name} ({current.id}), "
                f"not {home.strip()!r}; to switch it on purpose run "
                f"kith init --home {home.strip()!r} --change-home",
                field="home",
            )
        if org is None:
            org = add_organization(name=home, domains=domains)
        else:
            for d in domains:
                _add_contact(org, "domain", d, by=SYSTEM)
        if settings.home_org_id != org.id:
            record_change(
                entity_id="workspace",
                entity_kind="workspace",
                action="update",
                field="home_org",
                old=settings.home_org_id,
                new=org.id,
            )
            settings.home_org = org
            settings.save(update_fields=["home_org"])
    elif domains:
        current = selectors.home_org()
        if current is None:
            raise ValidationError("--domain: set --home before adding its domains", field="domain")
        for d in domains:
            _add_contact(current, "domain", d, by=SYSTEM)
    home_org = selectors.home_org()
    return {
        "home": selectors.record_summary(home_org) if home_org else None,
        "domains": [c.value for c in home_org.contacts.filter(kind="domain")] if home_org else [],
    }
