"""JSON API for briefs: GET /briefs/{ref} (json, or ?format=markdown|html|pdf|text),
GET /meetings/{interaction_id}/brief, GET /changes/{ref}."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.briefs import render, selectors
from kith.briefs.schemas import BriefOut, ChangesOut
from kith.server.auth import require
from kith.server.schemas import READ_ERRORS

router = Router(tags=["briefs"])
TYPES = {
    "markdown": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "text": "text/plain; charset=utf-8",
}


class Window(Schema):
    since: str | None = Field(None, max_length=40, description="7d, 2w, a date, last-review")
    as_of: dt.date | None = None


class BriefQuery(Window):
    format: str = Field("json", max_length=10, description="json, markdown, html, pdf, text")


class ChangesQuery(Window):
    kind: list[str] | None = Field(None, description="only these sources")


def _answer(request: HttpRequest, data: dict[str, Any], fmt: str) -> Any:
    fmt = render.check_format(fmt)
    if fmt == "json":
        return data
    body = render.render(data, fmt, base=request.build_absolute_uri("/").rstrip("/"))
    resp = HttpResponse(body, content_type=TYPES[fmt])
    if fmt == "pdf":
        resp["Content-Disposition"] = 'inline; filename="brief.pdf"'
    return resp


@router.get("/briefs/{ref}", response={200: BriefOut, **READ_ERRORS})
def brief(request: HttpRequest, ref: str, q: Query[BriefQuery]) -> Any:
    """The brief of an organisation or person: facts with evidence ids, then suggestions."""
    viewer = viewer_of(require(request, "viewer"))
    return _answer(request, selectors.brief(viewer, ref, since=q.since, as_of=q.as_of), q.format)


@router.get("/meetings/{interaction_id}/brief", response={200: BriefOut, **READ_ERRORS})
def meeting_brief(request: HttpRequest, interaction_id: str, q: Query[BriefQuery]) -> Any:
    """Prep for a meeting: its attendees and their organisations' briefs."""
    viewer = viewer_of(require(request, "viewer"))
    data = selectors.brief(viewer, None, since=q.since, as_of=q.as_of, for_meeting=interaction_id)
    return _answer(request, data, q.format)


@router.get("/changes/{ref}", response={200: ChangesOut, **READ_ERRORS})
def changes(request: HttpRequest, ref: str, q: Query[ChangesQuery]) -> Any:
    """What changed about an organisation or person since a day (typed items, evidence)."""
    viewer = viewer_of(require(request, "viewer"))
    return selectors.changes_since(viewer, ref, q.since, q.as_of, kinds=q.kind)
