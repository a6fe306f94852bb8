"""Pages: lists of people, organisations and custom records; saved views of them."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from kith.core.errors import KithError
from kith.lists import services
from kith.lists.exports import export_response
from kith.lists.selectors import (
    list_columns,
    list_page,
    parse_list_query,
    saved_view_state,
    saved_views,
)
from kith.records.selectors import get_type, list_types
from kith.web.views.base import error_page, is_htmx, notify, page, role, signed_in, viewer

CANONICAL = {"person": "people", "organization": "orgs"}


def list_url(type_key: str, pairs: list[tuple[str, str]] | None = None) -> str:
    """The address of a list, with its state as the query string."""
    name = CANONICAL.get(type_key)
    base = reverse(name) if name else reverse("records-of-type", args=[type_key])
    return f"{base}?{urlencode(pairs)}" if pairs else base


def _render_list(
    request: HttpRequest, type_key: str, params: QueryDict, **extra: object
) -> HttpResponse:
    rtype = get_type(type_key)
    who = viewer(request)
    query, errors, defs = parse_list_query(who, rtype.key, dict(params.lists()))
    data = None
    if not errors:
        try:
            data = list_page(who, query, defs)
        except KithError as exc:
            errors[exc.field or "__all__"] = exc.message
    columns, _, _ = list_columns(rtype.key)
    ctx = {
        "rtype": rtype,
        "query": query,
        "errors": errors,
        "data": data,
        "columns": columns,
        "shown": [c for c in columns if c[0] in query.cols],
        "filters": [d for d in defs if d.kind in ("choice", "bool", "text")],
        "list_url": list_url(rtype.key),
        "state_url": list_url(rtype.key, query.params()),
        "page_url": lambda n: list_url(rtype.key, [*query.params(page=False), ("page", str(n))]),
        "sort_url": lambda s: list_url(
            rtype.key, [(k, v) for k, v in query.params(page=False) if k != "sort"] + [("sort", s)]
        ),
        "state": urlencode(query.params(page=False)),
        "types": list_types(),
        "views": saved_views(who, rtype.key),
        "save_error": "",
        "view_name": "",
        **extra,
    }
    if is_htmx(request) and request.method == "GET":
        ctx.update(oob=True, can_write=role(request) in ("member", "admin"))
        # htmx swaps only 2xx answers, so a bad filter is said in the results with a 200
        resp = render(request, "web/_list_results.html", ctx, using="jinja2")
        resp["HX-Push-Url"] = str(ctx["state_url"])
        return resp
    ctx["oob"] = False
    status = 400 if errors or extra.get("save_error") else 200
    return page(request, "web/list.html", ctx, status=status)


@require_GET
@signed_in()
def people(request: HttpRequest) -> HttpResponse:
    return _render_list(request, "person", request.GET)


@require_GET
@signed_in()
def orgs(request: HttpRequest) -> HttpResponse:
    return _render_list(request, "organization", request.GET)


@require_GET
@signed_in()
def records_of_type(request: HttpRequest, type_key: str) -> HttpResponse:
    rtype = get_type(type_key)
    if rtype.key in CANONICAL:
        query = request.GET.urlencode()
        return HttpResponseRedirect(list_url(rtype.key) + (f"?{query}" if query else ""))
    return _render_list(request, rtype.key, request.GET)


@require_POST
@signed_in("member")
def save_view(request: HttpRequest, type_key: str) -> HttpResponse:
    """Save the list state sent in ``state`` under ``name``; back to the list."""
    rtype = get_type(type_key)
    raw = request.POST.get("state", "")[:4000]
    params = QueryDict(raw)
    query, errors, _ = parse_list_query(viewer(request), rtype.key, dict(params.lists()))
    name = request.POST.get("name", "")
    if errors:
        return error_page(request, 400, "Not saved", next(iter(errors.values())))
    try:
        view = services.save_view(
            viewer=viewer(request), type_key=rtype.key, name=name, query=query.as_saved()
        )
    except KithError as exc:
        return _render_list(request, rtype.key, params, save_error=exc.message, view_name=name[:80])
    notify(request, f"Saved the view “{view.name}”.")
    return HttpResponseRedirect(list_url(rtype.key, query.params(page=False)))


@require_POST
@signed_in("member")
def delete_view(request: HttpRequest, view_id: int) -> HttpResponse:
    type_key = services.delete_view(viewer=viewer(request), view_id=view_id)
    notify(request, "Deleted the saved view.")
    return HttpResponseRedirect(list_url(type_key))


EXPORTS = {"export-csv": "csv", "export-vcard": "vcard", "export-xlsx": "xlsx"}


@require_GET
@signed_in()
def export_list(request: HttpRequest, type_key: str) -> HttpResponse:
    """Download the list in this state (or a saved view, ``view``) as csv, vcard or xlsx."""
    rtype = get_type(type_key)
    who = viewer(request)
    params = dict(request.GET.lists())
    fmt = _one(params.pop("format", None))
    view_id = _one(params.pop("view", None))
    if view_id:
        key, params = saved_view_state(who, view_id)
        rtype = get_type(key)
    return cast(HttpResponse, export_response(who, rtype.key, params, fmt=fmt or "csv"))


def _one(values: list[str] | None) -> str:
    return (values or [""])[-1]


@require_POST
@signed_in("member")
def bulk(request: HttpRequest, type_key: str) -> HttpResponse:
    """One action on the selected rows (``ids``) or on every row of the list in ``state``:
    tag, untag, owner, set a field, delete, or export the rows."""
    rtype = get_type(type_key)
    who = viewer(request)
    state = QueryDict(request.POST.get("state", "")[:4000])
    params = dict(state.lists())
    ids = request.POST.getlist("ids") if request.POST.get("scope") != "all" else None
    action = request.POST.get("action", "")
    back = list_url(rtype.key, [(k, v) for k, vs in state.lists() for v in vs])
    if action in EXPORTS:
        resp = export_response(who, rtype.key, params, fmt=EXPORTS[action], ids=ids)
        return cast(HttpResponse, resp)  # a download (streamed)
    if ids is not None and not ids:
        return error_page(request, 400, "Nothing selected", "ids: tick the rows to act on")
    done = services.bulk_action(
        viewer=who,
        type_key=rtype.key,
        params=params,
        action=action,
        ids=ids,
        value=request.POST.get("value", "")[:2000],
        field=request.POST.get("field", "")[:60],
    )
    verb = {"tag": "Tagged", "untag": "Untagged", "owner": "Set the owner of",
            "set": "Set the field on", "delete": "Deleted"}[done["action"]]  # fmt: skip
    n = done["records"]
    notify(request, f"{verb} {n} {'record' if n == 1 else 'records'} ({done['changed']} changed).")
    return HttpResponseRedirect(back)


urlpatterns = [
    path("people", people, name="people"),
    path("orgs", orgs, name="orgs"),
    path("list/<str:type_key>", records_of_type, name="records-of-type"),
    path("list/<str:type_key>/views", save_view, name="list-view-save"),
    path("list/<str:type_key>/export", export_list, name="list-export"),
    path("list/<str:type_key>/bulk", bulk, name="list-bulk"),
    path("views/<int:view_id>/delete", delete_view, name="list-view-delete"),
]
