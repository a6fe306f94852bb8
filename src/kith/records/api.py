"""JSON API for records and custom types: parse, authorise, call services and selectors."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kith.accounts.selectors import is_admin, viewer_of
from kith.accounts.services import add_owned_record, set_private
from kith.core.errors import Conflict, ValidationError
from kith.core.limits import MAX_CONTACTS_PER_KIND
from kith.records import selectors, services, tags
from kith.records.schemas import ChangePage, RecordOut, RecordPage, RecordSummaryOut
from kith.records.selectors import resolve
from kith.relationships.selectors import record_history as record_history_of
from kith.server.auth import Forbidden, acting, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS

router = Router(tags=["records"])


class RecordIn(Schema):
    type: str = Field("person", max_length=60)
    name: str = Field(..., max_length=300)
    fields: dict[str, Any] = Field(default_factory=dict)
    emails: list[str] = Field(default_factory=list, max_length=MAX_CONTACTS_PER_KIND)
    phones: list[str] = Field(default_factory=list, max_length=MAX_CONTACTS_PER_KIND)
    domains: list[str] = Field(default_factory=list, max_length=MAX_CONTACTS_PER_KIND)
    urls: list[str] = Field(default_factory=list, max_length=MAX_CONTACTS_PER_KIND)
    private: bool = False


class RecordPatch(Schema):
    version: int | None = Field(None, description="The version you read; stale -> 409")
    set: dict[str, Any] = Field(
        default_factory=dict, description="name, email, phone, domain or typed fields"
    )
    private: bool | None = None


class RecordFilters(Schema):
    type: str | None = Field(None, max_length=60)
    q: str | None = Field(None, max_length=300, description="Name or contact search")
    sort: str = Field("name", description="name, created_at, updated_at; prefix - to reverse")
    include_deleted: bool = False
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=500)
    tag: str | None = Field(None, max_length=40, description="Only records with this tag")


class SearchQuery(Schema):
    q: str = Field(..., max_length=300, description="Name, email, phone, domain or subject")
    type: str | None = Field(None, max_length=60)
    limit: int = Field(20, ge=1, le=200)


class TypeIn(Schema):
    key: str = Field(..., max_length=60)
    label: str | None = Field(None, max_length=80)
    fields: list[str] = Field(default_factory=list, description="NAME:KIND specs")


class FieldIn(Schema):
    spec: str = Field(..., max_length=500, description="NAME:KIND, choice:a|b, ! = required")


class FieldOut(Schema):
    name: str
    kind: str
    choices: list[str]
    required: bool


class TypeOut(Schema):
    key: str
    label: str
    builtin: bool
    id_prefix: str
    fields: list[FieldOut]


class HistoryFilters(Schema):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(100, ge=1, le=500)


def detail(user: Any, record: Any) -> dict[str, Any]:
    """The JSON form of ``record`` as stored now, as ``user`` may see it."""
    return selectors.record_detail(record, viewer_of(user))


@router.get("/search", response={200: list[RecordSummaryOut], **READ_ERRORS})
def search(request: HttpRequest, q: Query[SearchQuery]) -> Any:
    """Records you may see matching ``q``, best first: the exact name, names and words
    starting with it, names and contacts containing it, names a typo away, then records
    in interactions with that subject (the web's search, ``kith search``)."""
    user = require(request, "viewer")
    return selectors.search_summaries(viewer_of(user), q.q, limit=q.limit, type_key=q.type)


@router.get("/records", response={200: RecordPage, **READ_ERRORS})
def list_records(request: HttpRequest, filters: Query[RecordFilters]) -> Any:
    """List the records you may see: filter by type and search, sort, page by cursor."""
    user = require(request, "viewer")
    items, nxt = selectors.records_page(
        viewer_of(user),
        type_key=filters.type,
        q=filters.q,
        sort=filters.sort,
        cursor=filters.cursor,
        limit=filters.limit,
        include_deleted=filters.include_deleted,
        tag=filters.tag,
    )
    return {"items": items, "next_cursor": nxt}


@router.post("/records", response={201: RecordOut, **WRITE_ERRORS})
def create_record(request: HttpRequest, payload: RecordIn) -> Any:
    """Create a record of any type (owned by you; ``private`` hides it from non-admins)."""
    with acting(request) as user:
        record = add_owned_record(
            user=user,
            private=payload.private,
            type_key=payload.type,
            name=payload.name,
            fields=payload.fields,
            emails=payload.emails,
            phones=payload.phones,
            domains=payload.domains,
            urls=payload.urls,
        )
    return Status(201, detail(user, record))


@router.get("/records/{ref}", response={200: RecordOut, **READ_ERRORS})
def get_record(request: HttpRequest, ref: str) -> Any:
    """One record by id, unique email or exact unique name."""
    user = require(request, "viewer")
    return detail(user, resolve(viewer_of(user), ref, include_deleted=True))


@router.patch("/records/{ref}", response={200: RecordOut, **WRITE_ERRORS})
def update_record(request: HttpRequest, ref: str, payload: RecordPatch) -> Any:
    """Change fields; send the ``version`` you read to refuse a concurrent overwrite (409)."""
    with acting(request) as user:
        record = resolve(viewer_of(user), ref)
        if not payload.set and payload.private is None:
            raise ValidationError("set: nothing to change", field="set")
        if payload.private is not None and payload.private != record.private:
            if not is_admin(user) and record.owner_id not in (None, user.pk):
                raise Forbidden("only the record's owner or an admin can change 'private'")
            if not is_admin(user) and record.owner_id is None:
                raise Forbidden("only an admin can make a shared record private")
        try:
            if payload.set:
                record = services.update_record(
                    ref=record.id,
                    values=payload.set,
                    expected_version=payload.version,
                    by=viewer_of(user),
                )
            elif payload.version is not None and payload.version != record.version:
                raise Conflict(
                    f"version: {record.id} is at version {record.version}, "
                    f"not {payload.version}; reload it and try again",
                    field="version",
                )
            if payload.private is not None:
                set_private(record=record, private=payload.private, user=user)
        except Conflict as exc:
            if exc.field == "version":
                exc.current = detail(user, record)  # type: ignore[attr-defined]
            raise
    return detail(user, record)


@router.delete("/records/{ref}", response={200: RecordOut, **WRITE_ERRORS})
def delete_record(request: HttpRequest, ref: str) -> Any:
    """Soft-delete a record (restorable)."""
    with acting(request) as user:
        record = services.delete_record(ref=resolve(viewer_of(user), ref).id)
    return detail(user, record)


@router.post("/records/{ref}/restore", response={200: RecordOut, **WRITE_ERRORS})
def restore_record(request: HttpRequest, ref: str) -> Any:
    """Bring back a soft-deleted record."""
    with acting(request) as user:
        record = services.restore_record(ref=resolve(viewer_of(user), ref, include_deleted=True).id)
    return detail(user, record)


@router.get("/records/{ref}/history", response={200: ChangePage, **READ_ERRORS})
def record_history(request: HttpRequest, ref: str, filters: Query[HistoryFilters]) -> Any:
    """Who changed what and when on a record and its relationships, oldest first."""
    user = require(request, "viewer")
    record = resolve(viewer_of(user), ref, include_deleted=True)
    items, nxt = record_history_of(
        viewer_of(user), record, cursor=filters.cursor, limit=filters.limit
    )
    return {"items": items, "next_cursor": nxt}


@router.get("/types", response={200: list[TypeOut], **READ_ERRORS})
def list_types(request: HttpRequest) -> Any:
    """Every record type with its typed fields."""
    require(request, "viewer")
    return selectors.list_types()


@router.post("/types", response={201: TypeOut, **WRITE_ERRORS})
def define_type(request: HttpRequest, payload: TypeIn) -> Any:
    """Define a custom record type (admins)."""
    with acting(request, "admin"):
        rtype = services.define_type(key=payload.key, label=payload.label, fields=payload.fields)
    return Status(201, next(t for t in selectors.list_types() if t["key"] == rtype.key))


@router.post("/types/{key}/fields", response={201: TypeOut, **WRITE_ERRORS})
def add_field(request: HttpRequest, key: str, payload: FieldIn) -> Any:
    """Add a typed field to a record type (admins)."""
    with acting(request, "admin"):
        field = services.add_field(type_key=key, spec=payload.spec)
    return Status(201, next(t for t in selectors.list_types() if t["key"] == field.record_type_id))


class TagIn(Schema):
    tag: str = Field(..., max_length=200, description="The tag (no commas, at most 40 characters)")


class TagCountOut(Schema):
    tag: str
    count: int


class TagQuery(Schema):
    type: str | None = Field(None, max_length=60)


@router.get("/tags", response={200: list[TagCountOut], **READ_ERRORS})
def tag_counts(request: HttpRequest, q: Query[TagQuery]) -> Any:
    """Every tag on a record you may see, with how many such records carry it."""
    user = require(request, "viewer")
    return selectors.tag_counts(viewer_of(user), type_key=q.type)


@router.post("/records/{ref}/tags", response={200: RecordOut, **WRITE_ERRORS})
def add_tag(request: HttpRequest, ref: str, payload: TagIn) -> Any:
    """Tag a record (a tag it has already is kept once, whatever its case)."""
    with acting(request) as user:
        record, _ = tags.add_tag(ref=ref, tag=payload.tag, by=viewer_of(user))
    return detail(user, record)


@router.delete("/records/{ref}/tags/{tag}", response={200: RecordOut, **WRITE_ERRORS})
def remove_tag(request: HttpRequest, ref: str, tag: str) -> Any:
    """Remove a tag from a record (one it does not have changes nothing)."""
    with acting(request) as user:
        record, _ = tags.remove_tag(ref=ref, tag=tag, by=viewer_of(user))
    return detail(user, record)
