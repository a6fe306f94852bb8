"""Response shapes of the dedupe API: likely duplicates, merges and their undoing."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from kith.server.schemas import Out, PersonRef, Ref


class PairOut(Out):
    score: int
    keep: Ref = Field(description="The older record, proposed to keep")
    other: Ref
    reasons: list[str]


class DuplicatesOut(Out):
    pairs: list[PairOut]
    total: int
    candidates: int
    records: int
    skipped: list[str] = Field(description="Values too common to be evidence (50 at most)")
    skipped_count: int
    next: str | None = Field(None, description="Pass as after= for the next page")
    stale: bool = Field(False, description="A rebuild after a big bulk load is queued")


class FieldConflictOut(Out):
    field: str
    keep: Any = None
    other: Any = None


class MergeOut(Out):
    id: str
    keep: Ref
    other: Ref
    moved: dict[str, int] = Field(description="What moved to keep, by kind, with counts")
    fields_added: dict[str, Any] = Field(description="Fields keep took from other")
    conflicts: list[FieldConflictOut]
    at: str


class MergeListed(MergeOut):
    actor: str
    undone_at: str | None = None


class UnmergeOut(Out):
    merge: str
    keep: Ref
    other: Ref
    exact: bool
    fields_left_on_keep: list[str]
    history_entries_returned: int


class DismissedOut(Out):
    a: PersonRef = Field(description="One record of the pair (id and name)")
    b: PersonRef
    dismissed: bool = Field(description="Always true: the pair is never proposed again")
