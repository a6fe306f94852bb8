"""JSON API for record lists: the web's list engine (filters, sorts, bands) and saved views."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.core.errors import ValidationError
from kith.lists import exports, selectors, services
from kith.lists.exports import export_response
from kith.records.selectors import get_type
from kith.server.auth import acting, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS, Out

router = Router(tags=["lists"])
LIST_PARAMS = ("q", "org", "band", "tag", "deleted", "sort", "cols", "page")


class ListFilters(Schema):
    """The list's state, as the web's list pages take it; ``f.FIELD=VALUE`` filters too."""

    q: str | None = Field(None, max_length=300, description="Name or contact search")
    org: str | None = Field(None, max_length=320, description="People at this organisation")
    band: str | None = Field(None, max_length=20, description="strong, good, fair, weak, cold")
    tag: str | None = Field(None, max_length=40, description="Records with this tag")
    deleted: bool = Field(False, description="Include deleted records")
    sort: str | None = Field(
        None, max_length=40, description="name, created, last, health; prefix - to reverse"
    )
    cols: list[str] | None = Field(None, description="Columns to fill (default: the list's)")
    page: int = Field(1, ge=1, le=1_000_000)
    size: int = Field(selectors.PAGE_SIZE, ge=1, le=200, description="Rows per page")


class ColumnOut(Out):
    key: str
    label: str


class ListRowOut(Out):
    id: str
    name: str
    deleted: bool
    cells: dict[str, Any]


class ListPageOut(Out):
    rows: list[ListRowOut]
    columns: list[ColumnOut]
    total: int
    pages: int
    page: int
    size: int
    query: str = Field(description="The state as a query string (defaults left out)")


class SavedViewIn(Schema):
    name: str = Field(..., max_length=200)
    params: dict[str, list[str]] = Field(
        default_factory=dict, description="List parameters, as GET /lists/{type_key} takes"
    )


class SavedViewOut(Out):
    id: int
    name: str
    type: str
    params: dict[str, list[str]]
    query: str


def _params(request: HttpRequest) -> dict[str, list[str]]:
    """The list parameters of the request: the named ones and every ``f.FIELD``."""
    return {k: v for k, v in request.GET.lists() if k in LIST_PARAMS or k.startswith("f.")}


@router.get("/lists/{type_key}", response={200: ListPageOut, **READ_ERRORS})
def list_page(request: HttpRequest, type_key: str, filters: Query[ListFilters]) -> Any:
    """One page of a list of records you may see: the rows and cells the web list shows."""
    viewer = viewer_of(require(request, "viewer"))
    rtype = get_type(type_key)
    return selectors.list_records(viewer, rtype.key, _params(request), size=filters.size)


@router.get("/lists/{type_key}/views", response={200: list[SavedViewOut], **READ_ERRORS})
def saved_views(request: HttpRequest, type_key: str) -> Any:
    """Your saved views of a list, by name."""
    viewer = viewer_of(require(request, "viewer"))
    return selectors.saved_views(viewer, get_type(type_key).key)


@router.post("/lists/{type_key}/views", response={201: SavedViewOut, **WRITE_ERRORS})
def save_view(request: HttpRequest, type_key: str, payload: SavedViewIn) -> Any:
    """Save (or replace) a named view of a list; bad parameters are refused, naming them."""
    with acting(request) as user:
        viewer = viewer_of(user)
        rtype = get_type(type_key)
        query, errors, _ = selectors.parse_list_query(viewer, rtype.key, payload.params)
        if errors:
            field, message = next(iter(errors.items()))
            raise ValidationError(message, field=field)
        view = services.save_view(
            viewer=viewer, type_key=rtype.key, name=payload.name, query=query.as_saved()
        )
    found = next(v for v in selectors.saved_views(viewer, rtype.key) if v["id"] == view.id)
    return Status(201, found)


@router.delete("/lists/views/{view_id}", response={204: None, **WRITE_ERRORS})
def delete_view(request: HttpRequest, view_id: int) -> Any:
    """Delete one of your saved views."""
    with acting(request) as user:
        services.delete_view(viewer=viewer_of(user), view_id=view_id)
    return Status(204, None)


class BulkIn(Schema):
    action: str = Field(..., max_length=20, description="tag, untag, owner, set, delete")
    value: str = Field("", max_length=2000, description="The tag, the owner's email, the value")
    field: str = Field("", max_length=60, description="The field set by 'set'")
    ids: list[str] | None = Field(
        None, max_length=10_000, description="Only these rows of the list (default: all)"
    )
    params: dict[str, list[str]] = Field(
        default_factory=dict, description="The list's parameters, as GET /lists/{type_key}"
    )
    view: int | None = Field(None, description="A saved view's id instead of params")


class BulkOut(Out):
    action: str
    type: str
    records: int
    changed: int
    ids: list[str]


EXPORT_CONTENT = {
    media.split(";")[0]: {"schema": {"type": "string"}}
    for media, _ in exports.EXPORT_FORMATS.values()
}


@router.post("/lists/{type_key}/bulk", response={200: BulkOut, **WRITE_ERRORS})
def bulk(request: HttpRequest, type_key: str, payload: BulkIn) -> Any:
    """Do one action to every record of a list (or of a saved view), or to selected rows of
    it, in one transaction: a failure names the record and changes nothing."""
    with acting(request) as user:
        viewer = viewer_of(user)
        rtype = get_type(type_key)
        params = payload.params
        if payload.view is not None:
            key, params = selectors.saved_view_state(viewer, str(payload.view))
            if key != rtype.key:
                raise ValidationError(f"view: a view of {key}, not {rtype.key}", field="view")
        return services.bulk_action(
            viewer=viewer,
            type_key=rtype.key,
            params=params,
            action=payload.action,
            ids=payload.ids,
            value=payload.value,
            field=payload.field,
        )


@router.get(
    "/lists/{type_key}/export",
    response={200: str, **READ_ERRORS},
    openapi_extra={"responses": {200: {"description": "The export", "content": EXPORT_CONTENT}}},
)
def export(
    request: HttpRequest, type_key: str, format: str = "csv", view: str | None = None
) -> Any:
    """Export a list (its parameters as GET /lists/{type_key} takes them, or a saved view's
    id as ``view``) as csv, vcard or xlsx: what you may see, every page, streamed."""
    viewer = viewer_of(require(request, "viewer"))
    rtype = get_type(type_key)
    params = _params(request)
    if view:
        key, params = selectors.saved_view_state(viewer, view)
        if key != rtype.key:
            raise ValidationError(f"view: a view of {key}, not {rtype.key}", field="view")
    ids = request.GET.getlist("ids") or None
    return export_response(viewer, rtype.key, params, fmt=format, ids=ids)
