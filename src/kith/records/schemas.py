"""Response shapes of the records API: records, pages of them, and history."""

from __future__ import annotations

from typing import Any

from kith.server.schemas import Out


class RecordSummaryOut(Out):
    id: str
    type: str
    name: str
    email: str | None = None
    phone: str | None = None
    deleted: bool
    private: bool = False


class RecordOut(Out):
    id: str
    type: str
    name: str
    fields: dict[str, Any]
    emails: list[str]
    phones: list[str]
    domains: list[str]
    urls: list[str]
    version: int
    created_at: str
    updated_at: str
    deleted_at: str | None = None
    merged_into: str | None = None
    private: bool = False
    owner: str | None = None
    tags: list[str] = []


class RecordPage(Out):
    items: list[RecordSummaryOut]
    next_cursor: str | None = None


class ChangeOut(Out):
    id: int
    at: str
    actor: str
    entity_id: str
    entity_kind: str
    action: str
    field: str
    old: Any = None
    new: Any = None
    note: str


class ChangePage(Out):
    items: list[ChangeOut]
    next_cursor: str | None = None
