"""JSON API for the caller's notifications: list (paged), mark read, preferences."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.notifications import selectors, services
from kith.server.auth import acting, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS, Out

router = Router(tags=["notifications"])


class NotificationOut(Out):
    id: int
    kind: str
    title: str
    body: str
    link: str
    evidence: dict[str, Any] | list[Any]
    created_at: str
    read_at: str | None = None
    read: bool
    email: str = Field(description="'' (not by email), queued, sent or failed")
    email_error: str


class NotificationPage(Out):
    items: list[NotificationOut]
    next_cursor: str | None = None
    unread: int


class NotificationFilters(Schema):
    unread: bool = Field(False, description="Only unread ones")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=500)


class ReadIn(Schema):
    read: bool = Field(True, description="false marks it unread again")


class ReadAllOut(Out):
    marked: int


class PreferenceIn(Schema):
    kind: str = Field(..., max_length=60, description="A kind, or * for the default")
    in_app: bool | None = None
    email: bool | None = None


class KindPreferenceOut(Out):
    kind: str
    label: str
    in_app: bool
    email: bool
    own: bool


class DefaultPreferenceOut(Out):
    in_app: bool
    email: bool


class PreferencesOut(Out):
    default: DefaultPreferenceOut
    kinds: list[KindPreferenceOut]


@router.get("/notifications", response={200: NotificationPage, **READ_ERRORS})
def list_notifications(request: HttpRequest, filters: Query[NotificationFilters]) -> Any:
    """Your notifications, newest first (a page; follow next_cursor)."""
    viewer = viewer_of(require(request, "viewer"))
    items, nxt = selectors.notifications_page(
        viewer, unread=filters.unread, cursor=filters.cursor, limit=filters.limit
    )
    return {"items": items, "next_cursor": nxt, "unread": selectors.unread_count(viewer)}


@router.post("/notifications/read-all", response={200: ReadAllOut, **WRITE_ERRORS})
def read_all(request: HttpRequest) -> Any:
    """Mark all your notifications read."""
    with acting(request, "viewer") as user:
        return {"marked": services.mark_all_read(viewer=viewer_of(user))}


@router.post(
    "/notifications/{notification_id}/read", response={200: NotificationOut, **WRITE_ERRORS}
)
def read_one(request: HttpRequest, notification_id: int, payload: ReadIn | None = None) -> Any:
    """Mark one of your notifications read (or, with read=false, unread)."""
    with acting(request, "viewer") as user:
        n = services.mark_read(
            viewer=viewer_of(user),
            notification_id=notification_id,
            read=payload.read if payload else True,
        )
    return selectors.notification_view(n)


@router.get("/notifications/preferences", response={200: PreferencesOut, **READ_ERRORS})
def get_preferences(request: HttpRequest) -> Any:
    """Your notification choices: in-app and email, per kind and by default."""
    return selectors.preferences(viewer_of(require(request, "viewer")))


@router.post("/notifications/preferences", response={200: PreferencesOut, **WRITE_ERRORS})
def set_preferences(request: HttpRequest, payload: PreferenceIn) -> Any:
    """Change your in-app and/or email choice for one kind (or * for the default)."""
    with acting(request, "viewer") as user:
        viewer = viewer_of(user)
        services.set_preference(
            viewer=viewer, kind=payload.kind, in_app=payload.in_app, email=payload.email
        )
    return selectors.preferences(viewer)
