"""Reads: likely duplicate pairs with a score and the reasons, and the merge log.

Candidates are found by blocking, never by comparing all pairs: records sharing a
normalised contact value (email, E.164 phone, web domain; grouped in SQL), records with
the same name tokens, and people at the same organisation whose first and last
initials agree. Only pairs inside a block are scored, so the cost grows with the
number of records plus the number of candidate pairs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

from kith.core import clock
from kith.core.errors import ValidationError
from kith.core.paging import decode, encode
from kith.core.viewer import Viewer
from kith.dedupe.blocking import (
    CONTACT_SCORES,
    FUZZY_AT_ORG,
    MAX_BLOCK,
    SAME_NAME,
    capped_text,
    compute,
    name_block,
    name_similarity,
    ordered,
    tokens,
)
from kith.dedupe.kept import KEPT_MIN, is_built, is_stale
from kith.dedupe.models import DupBlock, DupKey, DupPair, Merge, NotDuplicate
from kith.records.models import Record
from kith.records.selectors import get_type, hidden_records, visible_q

__all__ = [
    "CONTACT_SCORES",
    "FUZZY_AT_ORG",
    "MAX_BLOCK",
    "SAME_NAME",
    "find_duplicates",
    "list_merges",
    "merge_view",
    "name_block",
    "name_similarity",
    "tokens",
]


def find_duplicates(
    viewer: Viewer,
    *,
    type_key: str | None = None,
    min_score: int = 50,
    limit: int = 100,
    as_of: dt.date | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    """Likely duplicate pairs among the records ``viewer`` may see, best first, each with a
    0-100 score and its reasons (counts and blocks are of those records only).

    From ``min_score`` 50 up the kept pairs answer (``kith.dedupe.kept``), a page of
    ``limit`` after the cursor ``after`` (``next`` names the following page); below it,
    or ``as_of`` another day, the pairs are searched for whole (one page).
    """
    if not 0 <= min_score <= 100:
        raise ValidationError(f"min-score: {min_score} is not between 0 and 100", field="min_score")
    if limit < 1:
        raise ValidationError(f"limit: {limit} must be at least 1", field="limit")
    tkey = get_type(type_key).key if type_key else None
    if min_score >= KEPT_MIN and as_of is None and is_built():
        return _kept(viewer, tkey, min_score, limit, after)
    found = compute(viewer, day=as_of or clock.today(), min_score=min_score, type_key=tkey)
    dismissed = set(NotDuplicate.objects.values_list("a_id", "b_id"))  # a short list
    found_pairs = [p for p in found.pairs if (p[1], p[2]) not in dismissed]  # a < b
    out = []
    for result, a, b, reasons in found_pairs[:limit]:  # propose to keep the older record
        first, second = ordered(found.infos[a], found.infos[b])
        out.append(
            {
                "score": result,
                "keep": {"id": first.id, "name": first.name, "type": first.type},
                "other": {"id": second.id, "name": second.name, "type": second.type},
                "reasons": reasons,
            }
        )
    skipped = [capped_text(k, n, found.org_names) for k, n in found.capped]
    return {
        "pairs": out,
        "total": len(found_pairs),
        "candidates": found.candidates,
        "records": len(found.infos),
        "skipped": sorted(skipped)[:50],
        "skipped_count": len(skipped),
        "next": None,
        "stale": False,
    }


def _cursor(after: str | None) -> Q:
    if not after:
        return Q()
    value = decode(after)
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not isinstance(value[0], int)
        or not all(isinstance(v, str) for v in value[1:])
    ):
        raise ValidationError(f"cursor: {after[:40]!r} is not a cursor", field="cursor")
    score, a, b = value
    return Q(score__lt=score) | Q(score=score, a_id__gt=a) | Q(score=score, a_id=a, b_id__gt=b)


def _kept(
    viewer: Viewer, tkey: str | None, min_score: int, limit: int, after: str | None
) -> dict[str, Any]:
    """A page of the kept pairs both of whose records ``viewer`` may see (in the query)."""
    # kept pairs and keys are of live records only (refresh drops a deleted record's), so
    # the count reads the score index alone; hidden records (private ones: few) go by id
    qs = DupPair.objects.filter(score__gte=min_score).exclude(
        Exists(NotDuplicate.objects.filter(a_id=OuterRef("a_id"), b_id=OuterRef("b_id")))
    )  # pairs someone said are not duplicates
    records = Record.objects.filter(visible_q(viewer), deleted_at__isnull=True)
    capped = DupKey.objects.filter(
        key__in=DupBlock.objects.filter(size__gt=MAX_BLOCK).values("key"),
    )
    if not viewer.sees_everything:
        hidden = hidden_records(viewer).values("id")
        qs = qs.exclude(a_id__in=hidden).exclude(b_id__in=hidden)
        capped = capped.exclude(record_id__in=hidden)
    if tkey:
        qs, records = qs.filter(type_key=tkey), records.filter(type_id=tkey)
        capped = capped.filter(record__type_id=tkey)
    total = qs.count()
    rows = list(
        qs.filter(_cursor(after))
        .order_by("-score", "a_id", "b_id")
        .values(
            "score", "reasons", "a_id", "b_id", "keep_id",
            "a__name", "a__type_id", "b__name", "b__type_id",
        )[: limit + 1]
    )  # fmt: skip
    out = []
    for row in rows[:limit]:
        sides = {
            row["a_id"]: {"id": row["a_id"], "name": row["a__name"], "type": row["a__type_id"]},
            row["b_id"]: {"id": row["b_id"], "name": row["b__name"], "type": row["b__type_id"]},
        }
        keep = sides.pop(row["keep_id"])
        (other,) = sides.values()
        out.append({"score": row["score"], "keep": keep, "other": other, "reasons": row["reasons"]})
    nxt = None
    if len(rows) > limit:
        last = rows[limit - 1]
        nxt = encode([last["score"], last["a_id"], last["b_id"]])
    blocks = list(
        capped.values("key").annotate(n=Count("id")).filter(n__gt=MAX_BLOCK).order_by("key")
    )
    org_ids = {b["key"].split(":")[1] for b in blocks if b["key"].startswith("org:")}
    names = dict(Record.objects.filter(visible_q(viewer), pk__in=org_ids).values_list("id", "name"))
    skipped = [capped_text(b["key"], b["n"], names) for b in blocks]
    return {
        "pairs": out,
        "total": total,
        "candidates": total,
        "records": records.count(),
        "skipped": sorted(skipped)[:50],
        "skipped_count": len(skipped),
        "next": nxt,
        "stale": is_stale(),
    }


def merge_view(merge: Merge) -> dict[str, Any]:
    return {
        **merge.summary,
        "actor": merge.actor,
        "undone_at": merge.undone_at.isoformat() if merge.undone_at else None,
    }


def list_merges(
    viewer: Viewer, *, record_id: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Merges of records ``viewer`` may see (both of them), newest first; with
    ``record_id``, those it took part in."""
    qs = Merge.objects.order_by("-at", "-id")
    if not viewer.sees_everything:
        hidden = hidden_records(viewer).values("id")
        qs = qs.exclude(keep_id__in=hidden).exclude(other_id__in=hidden)
    if record_id:
        qs = qs.filter(Q(keep_id=record_id) | Q(other_id=record_id))
    return [merge_view(m) for m in qs.defer("snapshot")[:limit]]
