"""The API's wire types for live capture."""

from __future__ import annotations

from typing import Any

from kith.server.schemas import Out


class FolderOut(Out):
    name: str
    uidvalidity: int | None = None
    last_uid: int
    uidnext: int | None = None
    highestmodseq: int | None = None
    messages: int
    resets: int


class SourceOut(Out):
    id: str
    url: str
    owner: str | None = None
    status: str
    error: str
    failures: int
    last_sync_at: str | None = None
    next_attempt_at: str | None = None
    last_counts: dict[str, Any]


class MailAccountOut(SourceOut):
    folders: list[str]
    headers_only: bool
    since_days: int | None = None
    security: str
    auth: str
    positions: list[FolderOut]


class MailAccountsOut(Out):
    accounts: list[MailAccountOut]


class CalendarOut(SourceOut):
    kind: str
    window_days: int
    events: int


class CalendarsOut(Out):
    calendars: list[CalendarOut]
