"""JSON API for briefs: GET /briefs/{ref} (json, or ?format=markdown|html|pdf|text),
GET /meetings/{interaction_id}/brief, GET /changes/{ref}; digests (GET /digest, GET and PUT
/digest/subscription); coaching (GET /coach, GET /coach/team/{team}, PUT /coach/setting);
surprises (GET /surprises)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.briefs import digest as digests
from kith.briefs import render, selectors, services
from kith.briefs.models import Subscription
from kith.briefs.schemas import (
    BriefOut,
    ChangesOut,
    CoachCardOut,
    CoachingOut,
    CoachSettingOut,
    DigestOut,
    SubscriptionOut,
    SurprisesOut,
)
from kith.briefs.surprises import surprises as find_surprises
from kith.core import clock
from kith.server.auth import acting, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS

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


class SubscriptionIn(Schema):
    rrule: str = Field("FREQ=WEEKLY;BYDAY=MO;BYHOUR=7", max_length=300)
    zone: str = Field("UTC", max_length=60)
    channels: list[str] = Field(default_factory=lambda: ["in_app", "email"], max_length=3)
    active: bool = True


class DigestQuery(Schema):
    since: str = Field("last", max_length=10, description="last (the watermark) or 7d")


@router.get("/digest", response={200: DigestOut, **READ_ERRORS}, exclude_unset=True)
def digest_preview(request: HttpRequest, q: Query[DigestQuery]) -> Any:
    """A preview of the caller's next digest (nothing is sent, the watermark stays)."""
    user = require(request, "viewer")
    now = clock.now()
    sub = Subscription.objects.filter(user=user).first()
    return digests.digest(user, services.window_of(sub, q.since, now), now)


@router.get("/digest/subscription", response={200: SubscriptionOut, **READ_ERRORS})
def get_subscription(request: HttpRequest) -> Any:
    """The caller's digest subscription (schedule, zone, channels, watermark)."""
    user = require(request, "viewer")
    return digests.subscription_view(user)


@router.put("/digest/subscription", response={200: SubscriptionOut, **WRITE_ERRORS})
def put_subscription(request: HttpRequest, payload: SubscriptionIn) -> Any:
    """Set the caller's digest: an RRULE in their zone, channels (in_app, email, atom)."""
    with acting(request, "viewer") as user:
        sub = services.subscribe(
            user=user,
            rrule=payload.rrule,
            zone=payload.zone,
            channels=payload.channels,
            active=payload.active,
        )
    return services.view(sub)


class CoachQuery(Schema):
    user: str | None = Field(None, max_length=254, description="whose (default: mine)")
    as_of: dt.date | None = None


@router.get("/coach", response={200: CoachingOut, **READ_ERRORS}, by_alias=True)
def coach_page(request: HttpRequest, q: Query[CoachQuery]) -> Any:
    """One person's coaching (the caller's own by default); a look by anyone else (their
    team lead or an admin) is audited and shown to the person."""
    with acting(request, "viewer") as user:
        return services.open_coaching(
            viewer=viewer_of(user),
            user=q.user or user.get_username(),
            as_of=selectors.parse_as_of(q.as_of),
        )


@router.get("/coach/team/{team}", response={200: list[CoachCardOut], **READ_ERRORS})
def coach_team(request: HttpRequest, team: str) -> Any:
    """A team's members alphabetically, as neutral cards (name and a link; no figures)."""
    require(request, "viewer")
    return digests.team_cards(team)


class CoachSettingIn(Schema):
    mode: str | None = Field(None, max_length=4)
    team: str | None = Field(None, max_length=60)
    leads: list[str] | None = Field(None, max_length=50)


@router.put("/coach/setting", response={200: CoachSettingOut, **WRITE_ERRORS})
def coach_setting(request: HttpRequest, payload: CoachSettingIn) -> Any:
    """Admins: coaching on, self-only or off; a team's leads."""
    with acting(request, "admin") as user:
        got = services.set_coaching(
            viewer=viewer_of(user), mode=payload.mode, team=payload.team, leads=payload.leads
        )
    return {"mode": got.mode, "leads": got.leads}


class SurprisesQuery(Schema):
    scope: str = Field("all", max_length=320)
    since_days: int = Field(14, ge=7, le=366)
    as_of: dt.date | None = None
    metric: str = Field("interactions.two_way", max_length=80)
    period: int | None = Field(None, ge=2, le=52)


@router.get("/surprises", response={200: SurprisesOut, **READ_ERRORS})
def surprises(request: HttpRequest, q: Query[SurprisesQuery]) -> Any:
    """Surprises in accounts' weekly series (events, not people), each with its evidence."""
    viewer = viewer_of(require(request, "viewer"))
    return find_surprises(
        viewer,
        scope=q.scope,
        since_days=q.since_days,
        as_of=selectors.parse_as_of(q.as_of),
        metric=q.metric,
        period=q.period,
    )
