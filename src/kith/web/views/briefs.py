"""Pages: the brief of a record (/records/ID/brief) and of a meeting (/meetings/ID/brief),
print-friendly, with the same brief as Markdown or PDF (?format=). Every read through
kith.briefs.selectors, given the signed-in user's viewer."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from kith.briefs import render
from kith.briefs.selectors import brief
from kith.web.views.base import page, signed_in, viewer
from kith.web.views.record_data import text_input

FILE_TYPES = {"markdown": ("text/markdown; charset=utf-8", "md"), "pdf": ("application/pdf", "pdf")}


def _show(request: HttpRequest, data: dict[str, object], back: str) -> HttpResponse:
    fmt = render.check_format(text_input(request.GET, "format", max_len=10) or "html")
    if fmt in FILE_TYPES:
        kind, ext = FILE_TYPES[fmt]
        body = render.render(data, fmt, base=request.build_absolute_uri("/").rstrip("/"))
        resp = HttpResponse(body, content_type=kind)
        resp["Content-Disposition"] = f'attachment; filename="brief.{ext}"'
        return resp
    query = {k: v for k, v in request.GET.items() if k in ("since", "as_of")}
    ctx = {
        "b": data,
        "title": render.title(data),
        "href": render.href,
        "back": back,
        "q": query,
        "pdf_href": "?" + urlencode({**query, "format": "pdf"}),
        "md_href": "?" + urlencode({**query, "format": "markdown"}),
    }
    return page(request, "web/brief.html", ctx)


@require_GET
@signed_in()
def record_brief(request: HttpRequest, rid: str) -> HttpResponse:
    """The brief of an organisation or person (?since=7d|DATE|last-review&as_of=DATE)."""
    since = text_input(request.GET, "since", max_len=40) or None
    as_of = text_input(request.GET, "as_of", max_len=10) or None
    data = brief(viewer(request), rid[:320], since=since, as_of=as_of)
    return _show(request, data, f"/records/{data['record']['id']}")


@require_GET
@signed_in()
def meeting_brief(request: HttpRequest, iid: str) -> HttpResponse:
    """Prep for a meeting: its attendees and their organisations' briefs."""
    since = text_input(request.GET, "since", max_len=40) or None
    as_of = text_input(request.GET, "as_of", max_len=10) or None
    data = brief(viewer(request), None, since=since, as_of=as_of, for_meeting=iid[:64])
    return _show(request, data, "/")


urlpatterns = [
    path("records/<str:rid>/brief", record_brief, name="record-brief"),
    path("meetings/<str:iid>/brief", meeting_brief, name="meeting-brief"),
]
