"""Export: every record of a type (or all) as CSV, vCard or JSON, streamed in batches."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, Any

from django.db.models import Prefetch, Q

from kith.core.errors import ValidationError
from kith.core.viewer import Viewer
from kith.imports.cells import safe_cell
from kith.imports.vcard import write_card
from kith.records.models import ContactPoint, FieldDef, Record
from kith.records.selectors import get_type, visible_q
from kith.relationships.models import Relationship

BATCH = 1_000
EXPORT_FORMATS = ("csv", "vcard", "json")
LIST_SEP = " ::: "  # several values in one cell, as Google's export writes them


def export_views(viewer: Viewer, type_key: str | None = None) -> Iterator[dict[str, Any]]:
    """Each live record ``viewer`` may see as a dict: fields, contact points, first open
    works_at org (one they may see) and role.

    Organisations come first, so an importer meets each company before its people.
    """
    qs = Record.objects.filter(visible_q(viewer), deleted_at__isnull=True, merged_into__isnull=True)
    if type_key:
        qs = qs.filter(type_id=get_type(type_key).key)
    for tkey in sorted(
        set(qs.values_list("type_id", flat=True)), key=lambda t: t != "organization"
    ):
        last = ""
        while True:
            batch = list(
                qs.filter(type_id=tkey)
                .filter(Q(pk__gt=last))
                .order_by("pk")
                .prefetch_related(
                    Prefetch("contacts", queryset=ContactPoint.objects.order_by("-primary", "id"))
                )[:BATCH]
            )
            if not batch:
                break
            last = batch[-1].pk
            works: dict[str, tuple[str, str]] = {}
            rels = (
                Relationship.objects.filter(
                    visible_q(viewer, "to_record__"),
                    from_record_id__in=[r.pk for r in batch],
                    type_id="works_at",
                    until__isnull=True,
                    to_record__deleted_at__isnull=True,
                )
                .order_by("created_at", "id")
                .values_list("from_record_id", "to_record__name", "role")
            )
            for pid, org, role in rels:
                works.setdefault(pid, (org, role))
            for r in batch:
                contacts: dict[str, list[str]] = {"email": [], "phone": [], "domain": [], "url": []}
                for c in r.contacts.all():
                    contacts[c.kind].append(c.value)
                org, role = works.get(r.pk, ("", ""))
                yield {
                    "id": r.pk,
                    "type": r.type_id,
                    "name": r.name,
                    "emails": contacts["email"],
                    "phones": contacts["phone"],
                    "domains": contacts["domain"],
                    "urls": contacts["url"],
                    "org": org,
                    "title": role,
                    "fields": dict(r.fields),
                }


def _field_names(type_key: str | None) -> list[str]:
    qs = FieldDef.objects.all()
    if type_key:
        qs = qs.filter(record_type_id=get_type(type_key).key)
    return sorted(set(qs.values_list("name", flat=True)))


def export(viewer: Viewer, out: IO[str], *, fmt: str, type_key: str | None = None) -> int:
    """Write the export of what ``viewer`` may see to ``out``; returns how many records."""
    fmt = fmt.strip().lower()
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(
            f"--format: {fmt!r} is not an export format ({', '.join(EXPORT_FORMATS)})",
            field="format",
        )
    n = 0
    if fmt == "csv":
        names = _field_names(type_key)
        writer = csv.writer(out)
        writer.writerow(
            [
                "Type",
                "Name",
                "E-mail",
                "Phone",
                "Domain",
                "URL",
                "Organization",
                "Job Title",
                *[f"field:{f}" for f in names],
            ]
        )
        for v in export_views(viewer, type_key):
            writer.writerow([safe_cell(c) for c in [
                v["type"], v["name"], LIST_SEP.join(v["emails"]), LIST_SEP.join(v["phones"]),
                LIST_SEP.join(v["domains"]), LIST_SEP.join(v["urls"]), v["org"], v["title"],
                *["" if v["fields"].get(f) is None else _cell(v["fields"][f]) for f in names],
            ]])  # fmt: skip
            n += 1
    elif fmt == "vcard":
        for v in export_views(viewer, type_key):
            out.write(write_card(v))
            n += 1
    else:
        out.write('{"format": "kith", "version": 1, "records": [\n')
        for v in export_views(viewer, type_key):
            out.write((",\n" if n else "") + json.dumps(v, ensure_ascii=False, default=str))
            n += 1
        out.write("\n]}\n")
    return n


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
