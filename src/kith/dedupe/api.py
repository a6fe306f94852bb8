"""JSON API for dedupe: likely duplicates, merge and unmerge."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kith.accounts.selectors import viewer_of
from kith.dedupe.schemas import DismissedOut, DuplicatesOut, MergeListed, MergeOut, UnmergeOut
from kith.dedupe.selectors import find_duplicates, list_merges
from kith.dedupe.services import can_undo_merge, dismiss_pair, find_merge, merge_records
from kith.dedupe.services import unmerge as undo
from kith.records.selectors import resolve
from kith.server.auth import Forbidden, acting, require
from kith.server.schemas import READ_ERRORS, WRITE_ERRORS

router = Router(tags=["dedupe"])


class DuplicateQuery(Schema):
    type: str | None = Field(None, max_length=60)
    min_score: int = Field(50, ge=0, le=100)
    limit: int = Field(100, ge=1, le=1000)
    as_of: dt.date | None = None
    after: str | None = Field(None, max_length=200, description="The cursor of the next page")


class MergeIn(Schema):
    keep: str = Field(..., max_length=320)
    other: str = Field(..., max_length=320)


class MergeQuery(Schema):
    record: str | None = Field(None, max_length=320)
    limit: int = Field(50, ge=1, le=500)


@router.get("/duplicates", response={200: DuplicatesOut, **READ_ERRORS})
def duplicates(request: HttpRequest, q: Query[DuplicateQuery]) -> Any:
    """Likely duplicate pairs, best first, with a score and reasons; ``next`` pages on."""
    viewer = viewer_of(require(request, "viewer"))
    return find_duplicates(
        viewer,
        type_key=q.type,
        min_score=q.min_score,
        limit=q.limit,
        as_of=q.as_of,
        after=q.after,
    )


@router.post("/merges", response={200: MergeOut, **WRITE_ERRORS})
def merge(request: HttpRequest, payload: MergeIn) -> Any:
    """Merge ``other`` into ``keep``; every link moves, nothing is lost (undo with unmerge)."""
    with acting(request) as user:
        return merge_records(keep=payload.keep, other=payload.other, viewer=viewer_of(user))


@router.post("/merges/{ref}/undo", response={200: UnmergeOut, **WRITE_ERRORS})
def unmerge(request: HttpRequest, ref: str) -> Any:
    """Undo a merge (by merge id or merged record id): admins any, members their own."""
    with acting(request) as user:
        viewer = viewer_of(user)
        merge = find_merge(ref, viewer)
        if merge.undone_at is None and not can_undo_merge(viewer, merge, actor=user.username):
            raise Forbidden(f"merge {merge.id} was made by someone else; an admin can undo it")
        return undo(ref=merge.id, viewer=viewer)


@router.get("/merges", response={200: list[MergeListed], **READ_ERRORS})
def merges(request: HttpRequest, q: Query[MergeQuery]) -> Any:
    """Merges, newest first; optionally those a record took part in."""
    viewer = viewer_of(require(request, "viewer"))
    found = resolve(viewer, q.record, field="record", include_deleted=True) if q.record else None
    return list_merges(viewer, record_id=found.id if found else None, limit=q.limit)


class DismissIn(Schema):
    a: str = Field(..., max_length=320)
    b: str = Field(..., max_length=320)


@router.post("/duplicates/dismiss", response={200: DismissedOut, **WRITE_ERRORS})
def dismiss(request: HttpRequest, payload: DismissIn) -> Any:
    """Say two records are not duplicates: the pair is never proposed again."""
    with acting(request) as user:
        return dismiss_pair(a=payload.a, b=payload.b, viewer=viewer_of(user))
