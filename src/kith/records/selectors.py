"""Reads of records: reference resolution, detail views and lists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet

from kith.core.errors import Ambiguous, NotFound, ValidationError
from kith.core.paging import keyset, parse_sort
from kith.core.viewer import SYSTEM, Viewer
from kith.records.models import (
    ContactPoint,
    FieldDef,
    Record,
    RecordType,
    Tag,
    WorkspaceSettings,
)
from kith.records.normalize import name_key
from kith.records.search import check_search, ranked_ids, search_q, with_contacts

TYPE_ALIASES = {
    "people": "person",
    "persons": "person",
    "contact": "person",
    "org": "organization",
    "orgs": "organization",
    "organisation": "organization",
    "organisations": "organization",
    "organizations": "organization",
    "company": "organization",
    "companies": "organization",
}
RECORD_SORTS = {"name": "name_key", "created_at": "created_at", "updated_at": "updated_at"}


def get_type(key: str, *, field: str = "type") -> RecordType:
    """Return the record type named ``key`` (aliases such as ``org`` accepted)."""
    norm = (key or "").strip().lower().replace("-", "_")
    norm = TYPE_ALIASES.get(norm, norm)
    found = RecordType.objects.filter(key=norm).first()
    if found is None:
        known = ", ".join(RecordType.objects.values_list("key", flat=True))
        raise NotFound(f"{field}: unknown record type {key!r} (known: {known})", field=field)
    return found


def describe(record: Record) -> str:
    """One-line description of a record for candidate lists."""
    email = next((c.value for c in record.contacts.all() if c.kind == "email"), None)
    extra = f", {email}" if email else ""
    gone = ", deleted" if record.deleted_at else ""
    return f"{record.name} ({record.id}, {record.type_id}{extra}{gone})"


def resolve(
    viewer: Viewer,
    ref: str,
    *,
    type_key: str | None = None,
    include_deleted: bool = False,
    field: str = "ref",
) -> Record:
    """Find one record ``viewer`` may see by id, unique email or exact unique name.

    Visibility is part of the query: a record hidden from ``viewer`` is not found, with the
    same message as a missing one, and is never among the candidates of an ambiguous match.
    """
    text = (ref or "").strip()
    if not text:
        raise ValidationError(f"{field}: a record reference is required", field=field)
    base = Record.objects.select_related("type").filter(visible_q(viewer))
    if not include_deleted:
        base = base.filter(deleted_at__isnull=True)
    if type_key:
        base = base.filter(type_id=type_key)
    found = base.filter(pk=text).first()
    if found is not None:
        return found
    matches: list[Record] = []
    if "@" in text:
        ids = ContactPoint.objects.filter(kind="email", normalized=text.lower()).values("record_id")
        matches = list(base.filter(pk__in=ids).prefetch_related("contacts")[:50])
    if not matches:
        matches = list(base.filter(name_key=name_key(text)).prefetch_related("contacts")[:50])
    if len(matches) == 1:
        return matches[0]
    if not matches:
        what = f"{type_key} " if type_key else ""
        raise NotFound(f"{field}: no {what}record matches {ref!r}", field=field)
    raise Ambiguous(ref, [describe(m) for m in matches], field=field)


# -- visibility of private records: the one place it is decided --------------------------


def visible_q(viewer: Viewer, prefix: str = "") -> Q:
    """A filter on records (or on ``prefix`` + record fields) that ``viewer`` may see."""
    if viewer.sees_everything:
        return Q()
    return Q(**{f"{prefix}private": False}) | Q(**{f"{prefix}owner_id": viewer.user_id})


def can_see(viewer: Viewer, record: Record) -> bool:
    """Whether ``viewer`` may see ``record`` (no query)."""
    return viewer.sees_everything or not record.private or record.owner_id == viewer.user_id


def check_visible(viewer: Viewer, record: Record, *, field: str = "ref") -> Record:
    """``record`` if ``viewer`` may see it; otherwise the same NotFound as a missing record."""
    if not can_see(viewer, record):
        raise NotFound(f"{field}: no record matches {record.id!r}", field=field)
    return record


def hidden_ids(viewer: Viewer, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` are private records that ``viewer`` may not see (one query)."""
    wanted = {i for i in ids if i}
    if not wanted or viewer.sees_everything:
        return set()
    return set(
        Record.objects.filter(pk__in=wanted, private=True)
        .exclude(owner_id=viewer.user_id)
        .values_list("id", flat=True)
    )


def hidden_records(viewer: Viewer) -> QuerySet[Record]:
    """The private records ``viewer`` may not see (empty for an admin or the system)."""
    if viewer.sees_everything:
        return Record.objects.none()
    return Record.objects.filter(private=True).exclude(owner_id=viewer.user_id)


def hides_any(viewer: Viewer) -> bool:
    """Whether any record at all is hidden from ``viewer`` (one query; none for admins)."""
    return not viewer.sees_everything and hidden_records(viewer).exists()


def effective_viewer(viewer: Viewer) -> Viewer:
    """``viewer``, or ``SYSTEM`` when nothing is hidden from them: the same answers, which
    can then be shared (and cached) by everyone who is hidden nothing. One query."""
    return viewer if hides_any(viewer) else SYSTEM


def hidden_sql(viewer: Viewer, column: str) -> tuple[str, list[Any]]:
    """`` AND column NOT IN (...)`` leaving out what ``viewer`` may not see, for raw SQL."""
    if viewer.sees_everything:
        return "", []
    sql, params = hidden_records(viewer).values("id").query.sql_with_params()
    return f" AND {column} NOT IN ({sql})", list(params)


def reloaded(record: Record) -> Record:
    """``record`` as stored now, with its contacts (after a write changed it)."""
    return Record.objects.prefetch_related("contacts").get(pk=record.pk)


def home_org() -> Record | None:
    """Return the workspace's home organisation, if set."""
    settings = WorkspaceSettings.objects.select_related("home_org").filter(pk=1).first()
    if settings is None or settings.home_org is None or settings.home_org.deleted_at:
        return None
    return settings.home_org


def field_defs(type_key: str) -> list[FieldDef]:
    return list(FieldDef.objects.filter(record_type_id=type_key).order_by("id"))


def contacts_of(record: Record) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"emails": [], "phones": [], "domains": [], "urls": []}
    for c in record.contacts.all():
        out[c.kind + "s"].append(c.value)
    return out


def record_summary(record: Record) -> dict[str, Any]:
    """The short JSON form of a record used in lists."""
    contacts = contacts_of(record)
    return {
        "id": record.id,
        "type": record.type_id,
        "name": record.name,
        "email": contacts["emails"][0] if contacts["emails"] else None,
        "phone": contacts["phones"][0] if contacts["phones"] else None,
        "domain": contacts["domains"][0] if contacts["domains"] else None,
        "deleted": record.deleted_at is not None,
    }


def record_view(record: Record, viewer: Viewer | None = None) -> dict[str, Any]:
    """The full JSON form of a record: fields, contact points, lifecycle.

    With ``viewer``, a tombstone's ``merged_into`` names the record it went into only if
    ``viewer`` may see that one (merges no longer hide records; older data may).
    """
    merged_into = record.merged_into
    if merged_into and viewer is not None and not viewer.sees_everything:
        target = Record.objects.filter(pk=merged_into).only("id", "private", "owner_id").first()
        if target is None or not can_see(viewer, target):
            merged_into = None
    return {
        "id": record.id,
        "type": record.type_id,
        "name": record.name,
        "fields": dict(record.fields),
        **contacts_of(record),
        "version": record.version,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "deleted_at": record.deleted_at.isoformat() if record.deleted_at else None,
        "merged_into": merged_into,
    }


def record_detail(record: Record, viewer: Viewer | None = None) -> dict[str, Any]:
    """The full JSON form of ``record`` as stored now, with who owns it and whether private."""
    fresh = Record.objects.select_related("owner").prefetch_related("contacts").get(pk=record.pk)
    owner = fresh.owner.get_username() if fresh.owner else None
    return {
        **record_view(fresh, viewer),
        "private": fresh.private,
        "owner": owner,
        "tags": tags_of([fresh.pk]).get(fresh.pk, []),
    }


# -- tags ----------------------------------------------------------------------------------


def tags_of(ids: Iterable[str]) -> dict[str, list[str]]:
    """Each record's tags in name order (one query), by record id."""
    out: dict[str, list[str]] = {}
    for rid, name in (
        Tag.objects.filter(record_id__in=list(ids)).order_by("key").values_list("record_id", "name")
    ):
        out.setdefault(rid, []).append(name)
    return out


def tagged_q(tag: str, prefix: str = "") -> Q:
    """A filter on records (or ``prefix`` + record) carrying ``tag``, whatever its case."""
    key = " ".join(tag.split()).casefold()
    return Q(**{f"{prefix}pk__in": Tag.objects.filter(key=key).values("record_id")})


def tag_counts(
    viewer: Viewer, *, type_key: str | None = None, include_deleted: bool = False
) -> list[dict[str, Any]]:
    """Every tag on a record ``viewer`` may see, with how many such records carry it.

    Private records the viewer may not see are left out in the query, so they count for
    nothing (a tag only they carry is not listed at all).
    """
    qs = Tag.objects.filter(visible_q(viewer, "record__"))
    if not include_deleted:
        qs = qs.filter(record__deleted_at__isnull=True, record__merged_into__isnull=True)
    if type_key:
        qs = qs.filter(record__type_id=get_type(type_key).key)
    rows = qs.values("key").annotate(
        n=models.Count("record_id", distinct=True), name=models.Min("name")
    )
    return [
        {"tag": r["name"], "count": r["n"]} for r in sorted(rows, key=lambda r: (-r["n"], r["key"]))
    ]


def list_records(
    viewer: Viewer,
    *,
    type_key: str | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
    include_deleted: bool = False,
    tag: str | None = None,
) -> list[dict[str, Any]]:
    """Records ``viewer`` may see, optionally of one type, matching a search and carrying a
    tag, by name."""
    if limit < 1 or limit > 10_000:
        raise ValidationError("limit: must be between 1 and 10000", field="limit")
    qs = _listed(viewer, type_key=type_key, q=search, include_deleted=include_deleted, tag=tag)
    qs = with_contacts(qs.order_by("name_key", "id"))
    return [record_summary(r) for r in qs[offset : offset + limit]]


def _listed(
    viewer: Viewer,
    *,
    type_key: str | None,
    q: str | None,
    include_deleted: bool,
    tag: str | None = None,
) -> QuerySet[Record]:
    qs = Record.objects.filter(visible_q(viewer))
    if tag is not None:
        if not tag.strip() or len(tag) > 40:
            raise ValidationError(f"tag: {tag[:60]!r} is not a tag", field="tag")
        qs = qs.filter(tagged_q(tag))
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    if type_key:
        qs = qs.filter(type_id=get_type(type_key).key)
    term = check_search(q)
    if term:
        qs = qs.filter(search_q(term))
    return qs


def records_page(
    viewer: Viewer,
    *,
    type_key: str | None = None,
    q: str | None = None,
    sort: str = "name",
    cursor: str | None = None,
    limit: int = 50,
    include_deleted: bool = False,
    tag: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A cursor page of the records ``viewer`` may see, filtered by type, search and tag."""
    field, desc = parse_sort(sort, RECORD_SORTS)
    qs = _listed(viewer, type_key=type_key, q=q, include_deleted=include_deleted, tag=tag)
    rows, nxt = keyset(with_contacts(qs), field=field, desc=desc, cursor=cursor, limit=limit)
    return [{**record_summary(r), "private": r.private} for r in rows], nxt


def search_records(
    viewer: Viewer, text: str, *, limit: int = 8, type_key: str | None = None
) -> list[Record]:
    """Live records ``viewer`` may see matching ``text``, best first (``search.ranked_ids``:
    the exact name, names starting with it, words starting with it, names and contacts
    containing it, names a typo away, then records in interactions with that subject)."""
    term = check_search(text)
    if not term:
        return []
    if not 1 <= limit <= 1000:
        raise ValidationError("limit: must be between 1 and 1000", field="limit")
    base = Record.objects.filter(visible_q(viewer), deleted_at__isnull=True)
    if type_key:
        base = base.filter(type_id=get_type(type_key).key)
    ids = ranked_ids(base, term, limit)
    found = {r.id: r for r in with_contacts(base.select_related("type")).filter(pk__in=ids)}
    return [found[i] for i in ids if i in found]


def search_summaries(
    viewer: Viewer, text: str, *, limit: int = 20, type_key: str | None = None
) -> list[dict[str, Any]]:
    """``search_records`` as JSON-ready summaries (``kith search``, ``GET /api/v1/search``)."""
    found = search_records(viewer, text, limit=limit, type_key=type_key)
    return [{**record_summary(r), "private": r.private} for r in found]


def list_types() -> list[dict[str, Any]]:
    """Every record type with its fields."""
    types = RecordType.objects.prefetch_related("fields").order_by("-builtin", "key")
    return [
        {
            "key": t.key,
            "label": t.label,
            "builtin": t.builtin,
            "id_prefix": t.id_prefix,
            "fields": [
                {"name": f.name, "kind": f.kind, "choices": f.choices, "required": f.required}
                for f in t.fields.all()
            ],
        }
        for t in types
    ]
