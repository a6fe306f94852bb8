"""Pages: the full "best" and "at risk" rankings (filters, sorting, paging, CSV export)."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from kith.core import clock
from kith.core.errors import KithError, ValidationError
from kith.intelligence.rankings import BANDS, PAGE_SIZES, SORTS, ranking_csv, ranking_page
from kith.web.views.base import page, signed_in, viewer
from kith.web.views.record_data import parse_as_of, text_input

TITLES = {"best": "Best relationships", "at-risk": "At risk"}
INTRO = {
    "best": "Organisations and people by value (engagement) weighted by health, with why.",
    "at-risk": "Organisations and people whose health fell or is low, or that lost a key "
    "person, and why; the newest events first.",
}


def _int(raw: str, default: int, field: str) -> int:
    try:
        return int(raw) if raw else default
    except ValueError:
        raise ValidationError(f"{field}: {raw[:20]!r} is not a number", field=field) from None


def _ranking(request: HttpRequest, which: str) -> HttpResponse:
    values = {
        name: text_input(request.GET, name, max_len=size)
        for name, size in (("type", 20), ("band", 20), ("q", 200), ("sort", 20), ("format", 10))
    }
    as_of, as_of_text, as_of_error = parse_as_of(request)
    filters = {
        "kind": values["type"],
        "band": values["band"],
        "q": values["q"],
        "sort": values["sort"] or "rank",
        "as_of": as_of,
    }
    state = [(k, v) for k, v in (*values.items(), ("as_of", as_of_text)) if v and k != "format"]
    error = f"As of: {as_of_error}" if as_of_error else ""
    if not error and values["format"]:
        if values["format"] != "csv":
            error = f"format: {values['format']!r} is not csv"
        else:
            day = (as_of or clock.local_today()).isoformat()
            resp = StreamingHttpResponse(
                ranking_csv(viewer(request), which, **filters), content_type="text/csv"
            )
            resp["Content-Disposition"] = f'attachment; filename="kith-{which}-{day}.csv"'
            return cast(HttpResponse, resp)  # signed_in's views answer HttpResponse
    data = None
    if not error:
        try:
            data = ranking_page(
                viewer(request),
                which,
                page=_int(str(request.GET.get("page", ""))[:12], 1, "page"),
                size=_int(str(request.GET.get("size", ""))[:12], 50, "size"),
                **filters,
            )
        except KithError as exc:
            error = exc.message

    def link(**change: str) -> str:
        pairs = dict(state)
        pairs.update(change)
        return f"?{urlencode({k: v for k, v in pairs.items() if v})}"

    current = filters["sort"]
    ctx = {
        "which": which,
        "title": TITLES[which],
        "intro": INTRO[which],
        "values": {**values, "as_of": as_of_text},
        "bands": BANDS,
        "sizes": PAGE_SIZES,
        "sorts": list(SORTS[which]),
        "sort": current,
        "sort_url": lambda key: link(sort=f"-{key}" if current == key else key, page=""),
        "page_url": lambda n: link(page=str(n)),
        "csv_url": link(format="csv", page=""),
        "data": data,
        "error": error,
    }
    return page(request, "web/ranking.html", ctx, status=400 if error else 200)


@require_GET
@signed_in()
def best_page(request: HttpRequest) -> HttpResponse:
    return _ranking(request, "best")


@require_GET
@signed_in()
def at_risk_page(request: HttpRequest) -> HttpResponse:
    return _ranking(request, "at-risk")


urlpatterns = [
    path("best", best_page, name="best"),
    path("at-risk", at_risk_page, name="at-risk"),
]
