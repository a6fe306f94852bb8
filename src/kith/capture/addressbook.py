"""Reads for the CardDAV address book: a user's people as vCards, with ETags and changes.

Each user's book holds the people they may see (public ones and their own private ones),
visibility in the query. A card's ETag is its record's id and version; the sync token is
the id of the last history row (``core.Change``), so "what changed since" is the records
with history rows after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Max

from kith.core.models import Change
from kith.core.viewer import Viewer
from kith.records.models import ContactPoint, Record
from kith.records.selectors import visible_q
from kith.relationships.models import Relationship

TOKEN_PREFIX = "kith-dav:"


@dataclass(frozen=True)
class Card:
    id: str
    etag: str
    text: str


def etag_of(record_id: str, version: int) -> str:
    return f'"{record_id}-{version}"'


def _people(viewer: Viewer) -> Any:
    return Record.objects.filter(
        visible_q(viewer), type_id="person", deleted_at__isnull=True, merged_into__isnull=True
    )


def listing(viewer: Viewer) -> list[tuple[str, str]]:
    """(record id, ETag) of every card in the viewer's book (one query)."""
    return [
        (rid, etag_of(rid, version))
        for rid, version in _people(viewer).order_by("id").values_list("id", "version")
    ]


def token(viewer: Viewer) -> str:
    """The book's sync token now (also its CTag)."""
    last = Change.objects.aggregate(n=Max("id"))["n"] or 0
    return f"{TOKEN_PREFIX}{last}"


def parse_token(text: str) -> int | None:
    if not text.startswith(TOKEN_PREFIX) or not text[len(TOKEN_PREFIX) :].isdigit():
        return None
    return int(text[len(TOKEN_PREFIX) :])


def changes(viewer: Viewer, since: int) -> tuple[list[tuple[str, str]], list[str]]:
    """Cards changed since token ``since`` (id, ETag), and cards gone from the book: deleted,
    merged away, or made private to someone else (only those the viewer could have had)."""
    rows = Change.objects.filter(id__gt=since, entity_kind="record")
    ids = sorted(set(rows.values_list("entity_id", flat=True)))
    became_private = set(rows.filter(field="private", new=True).values_list("entity_id", flat=True))
    changed: list[tuple[str, str]] = []
    removed: list[str] = []
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        seen = dict(_people(viewer).filter(id__in=part).values_list("id", "version"))
        changed.extend((rid, etag_of(rid, v)) for rid, v in sorted(seen.items()))
        others = Record.objects.filter(id__in=[r for r in part if r not in seen], type_id="person")
        for rid, private, owner in others.values_list("id", "private", "owner_id"):
            hidden = private and not viewer.sees_everything and owner != viewer.user_id
            if not hidden or rid in became_private:
                removed.append(rid)
    return changed, removed


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace(",", "\\,").replace(";", "\\;")


def cards(viewer: Viewer, ids: Iterable[str]) -> list[Card]:
    """The vCards of the asked people the viewer may see (three queries per 500)."""
    wanted = sorted(set(ids))
    out: list[Card] = []
    for i in range(0, len(wanted), 500):
        part = wanted[i : i + 500]
        records = list(_people(viewer).filter(id__in=part).order_by("id"))
        found = [r.id for r in records]
        points: dict[str, list[tuple[str, str, bool]]] = {}
        for rid, kind, value, primary in (
            ContactPoint.objects.filter(record_id__in=found, kind__in=("email", "phone"))
            .order_by("record_id", "-primary", "id")
            .values_list("record_id", "kind", "value", "primary")
        ):
            points.setdefault(rid, []).append((kind, value, primary))
        jobs: dict[str, tuple[str, str]] = {}
        for rid, org, role in (
            Relationship.objects.filter(
                visible_q(viewer, "to_record__"),
                from_record_id__in=found,
                type_id="works_at",
                until__isnull=True,
                to_record__deleted_at__isnull=True,
            )
            .order_by("from_record_id", "-since", "id")
            .values_list("from_record_id", "to_record__name", "role")
        ):
            jobs.setdefault(rid, (org, role))
        for r in records:
            lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{r.id}", f"FN:{_esc(r.name)}"]
            first, _, last = r.name.rpartition(" ")
            lines.append(f"N:{_esc(last)};{_esc(first)};;;")
            for kind, value, primary in points.get(r.id, []):
                pref = ",PREF" if primary else ""
                if kind == "email":
                    lines.append(f"EMAIL;TYPE=INTERNET{pref}:{value}")
                else:
                    lines.append(f"TEL;TYPE=VOICE{pref}:{value}")
            if r.id in jobs:
                org, role = jobs[r.id]
                lines.append(f"ORG:{_esc(org)}")
                if role:
                    lines.append(f"TITLE:{_esc(role)}")
            notes = (r.fields or {}).get("notes")
            if notes:
                lines.append(f"NOTE:{_esc(str(notes))}")
            lines.append("END:VCARD")
            out.append(Card(r.id, etag_of(r.id, r.version), "\r\n".join(lines) + "\r\n"))
    return out
