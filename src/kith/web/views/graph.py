"""Pages: a record's relationship map, the warm-introduction path finder, an org chart."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from kith.accounts.selectors import viewer_of
from kith.core.errors import KithError, NotFound, ValidationError
from kith.network.selectors import ego_map
from kith.network.selectors import orgchart as read
from kith.network.selectors import path as paths
from kith.plans.selectors import map_stakeholders
from kith.records.models import Record
from kith.web.views.base import page, signed_in
from kith.web.views.record_data import get_record, parse_as_of, text_input

MAP_LIMIT = 300
PATH_FIELDS = {"to": "to", "from": "from", "max-hops": "max_hops", "max_hops": "max_hops"}


def json_response(data: Any, status: int = 200) -> HttpResponse:
    """JSON with <, > and & escaped, so no value can ever read as markup."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return HttpResponse(text, status=status, content_type="application/json")


def _int(raw: Any, default: int, lo: int, hi: int, name: str) -> int:
    text = str(raw or "").strip()
    if not text:
        return default
    try:
        value = int(text[:6])
    except ValueError:
        raise ValidationError(f"{name}: {text[:20]!r} is not a whole number", field=name) from None
    if not lo <= value <= hi:
        raise ValidationError(f"{name}: {value} is outside {lo}..{hi}", field=name)
    return value


def filter_types(data: dict[str, Any], wanted: set[str] | None) -> dict[str, Any]:
    """The map with only edges of ``wanted`` types and the nodes they still reach."""
    if wanted is None:
        return data
    edges = [e for e in data["edges"] if set(e["types"]) & wanted]
    center = data["center"]["id"]
    adj: dict[str, list[str]] = {}
    for e in edges:
        adj.setdefault(e["source"], []).append(e["target"])
        adj.setdefault(e["target"], []).append(e["source"])
    seen, todo = {center}, [center]
    while todo:
        for nxt in adj.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return {
        **data,
        "nodes": [n for n in data["nodes"] if n["id"] in seen],
        "edges": [e for e in edges if e["source"] in seen and e["target"] in seen],
    }


def read_map(
    request: HttpRequest, record: Record
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """The map (filtered), what the user asked for, and errors by control."""
    errors: dict[str, str] = {}
    as_of, raw, error = parse_as_of(request)
    if error:
        errors["as_of"] = error
    try:
        depth = _int(request.GET.get("depth"), 1, 1, 3, "depth")
    except ValidationError as exc:
        depth, errors["depth"] = 1, exc.message
    data = ego_map(viewer_of(request.user), record.id, depth=depth, as_of=as_of, limit=MAP_LIMIT)
    all_types = sorted({t for e in data["edges"] for t in e["types"]})
    picked = [t[:60] for t in request.GET.getlist("types")[:100]]
    wanted = set(picked) if picked else None
    data = filter_types(data, wanted)
    for node in data["nodes"]:
        node["url"] = reverse("record", args=[node["id"]])
    asked = {
        "as_of": as_of.isoformat() if as_of else "",
        "as_of_text": raw,
        "depth": depth,
        "types": all_types,
        "picked": sorted(wanted) if wanted is not None else all_types,
        "filtered": wanted is not None,
        "stakeholders": request.GET.get("stakeholders") == "1",
    }
    data["overlay"] = map_stakeholders(viewer_of(request.user), record, as_of=as_of)
    return data, asked, errors


def read_paths(
    request: HttpRequest, record: Record, as_of: dt.date | None
) -> tuple[dict[str, Any] | None, dict[str, str], dict[str, str]]:
    """Warm-introduction paths when the form asked for them: (result, values, errors)."""
    values = {"to": "", "from": "", "max_hops": "4"}
    if "to" not in request.GET:
        return None, values, {}
    try:
        values["to"] = text_input(request.GET, "to", max_len=320)
        values["from"] = text_input(request.GET, "from", max_len=320)
        values["max_hops"] = text_input(request.GET, "max_hops", max_len=6) or "4"
        hops = _int(values["max_hops"], 4, 1, 8, "max_hops")
        found = paths(
            viewer_of(request.user),
            values["to"] or record.id,
            from_=values["from"] or None,
            max_hops=hops,
            as_of=as_of,
        )
    except KithError as exc:
        field = PATH_FIELDS.get(exc.field or "", "to")
        return None, values, {field: exc.message}
    return found, values, {}


@require_GET
@signed_in()
def map_page(request: HttpRequest, rid: str) -> HttpResponse:
    record = live_record(request, rid)
    data, asked, errors = read_map(request, record)
    found, path_values, path_errors = read_paths(
        request, record, dt.date.fromisoformat(asked["as_of"]) if asked["as_of"] else None
    )
    # the script filters types and switches the stakeholder overlay itself
    query = {k: v for k, v in request.GET.lists() if k not in ("types", "stakeholders")}
    ctx = {
        "record": record,
        "data": data,
        "asked": asked,
        "errors": errors,
        "found": found,
        "path_values": path_values,
        "path_errors": path_errors,
        "json_query": query,
        "nodes_by_depth": sorted(data["nodes"], key=lambda n: (n["depth"], n["name"].casefold())),
    }
    status = 400 if errors or path_errors else 200
    return page(request, "web/map.html", ctx, status=status)


@require_GET
@signed_in()
def map_json(request: HttpRequest, rid: str) -> HttpResponse:
    """The map for the script: nodes, edges, types, and the paths asked for (if any)."""
    try:
        record = live_record(request, rid)
        data, asked, errors = read_map(request, record)
        as_of = dt.date.fromisoformat(asked["as_of"]) if asked["as_of"] else None
        found, _, path_errors = read_paths(request, record, as_of)
    except NotFound as exc:
        return json_response({"error": exc.message}, status=404)
    if errors or path_errors:
        return json_response({"errors": {**errors, **path_errors}}, status=400)
    nodes = {n["id"]: n for n in data["nodes"]}
    routes = []
    for route in (found or {}).get("paths", []):
        ids = [route["steps"][0]["from"]["id"]] + [s["to"]["id"] for s in route["steps"]]
        for step in route["steps"]:
            for end in (step["from"], step["to"]):
                if end["id"] not in nodes:
                    nodes[end["id"]] = {
                        **end,
                        "depth": 9,
                        "url": reverse("record", args=[end["id"]]),
                        "off_map": True,
                    }
        routes.append({"nodes": ids, "strength": route["strength"], "hops": route["hops"]})
    return json_response(
        {
            "center": data["center"],
            "as_of": data["as_of"],
            "nodes": list(nodes.values()),
            "edges": data["edges"],
            "types": asked["types"],
            "truncated": data["truncated"],
            "paths": routes,
            "overlay": data["overlay"],
        }
    )


def live_record(request: HttpRequest, rid: str) -> Record:
    """A record the user may see that is not deleted (deleted ones are not on the map)."""
    return get_record(request, rid, deleted=False)


@require_GET
@signed_in()
def orgchart(request: HttpRequest, rid: str) -> HttpResponse:
    record = live_record(request, rid)
    if record.type_id != "organization":
        raise ValidationError(f"{record.name} is not an organisation; org charts are for those")
    as_of, raw, error = parse_as_of(request)
    chart = read(viewer_of(request.user), record.id, as_of=as_of)
    ctx = {"record": record, "chart": chart, "as_of": raw, "as_of_error": error}
    return page(request, "web/map_orgchart.html", ctx, status=400 if error else 200)


urlpatterns = [
    path("records/<str:rid>/map", map_page, name="record-map"),
    path("records/<str:rid>/map.json", map_json, name="record-map-json"),
    path("records/<str:rid>/orgchart", orgchart, name="record-orgchart"),
]
