"""JSON API for live capture: your mail accounts and calendars with their sync status."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from kith.accounts.selectors import viewer_of
from kith.capture import selectors
from kith.capture.schemas import CalendarsOut, MailAccountsOut
from kith.server.auth import require
from kith.server.schemas import READ_ERRORS

router = Router(tags=["capture"])


@router.get("/capture/mail", response={200: MailAccountsOut, **READ_ERRORS})
def mail_accounts(request: HttpRequest) -> Any:
    """Your mail accounts (all of them for an admin): folders, positions, status, errors."""
    return {"accounts": selectors.mail_accounts(viewer_of(require(request, "viewer")))}


@router.get("/capture/calendars", response={200: CalendarsOut, **READ_ERRORS})
def calendars(request: HttpRequest) -> Any:
    """Your calendars (all of them for an admin) with their sync status."""
    return {"calendars": selectors.calendars(viewer_of(require(request, "viewer")))}
