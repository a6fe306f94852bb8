"""Reads: likely duplicate pairs with a score and the reasons, and the merge log.

Candidates are found by blocking, never by comparing all pairs: records sharing a
normalised contact value (email, E.164 phone, web domain; grouped in SQL), records with
the same name tokens, and people at the same organisation whose first and last
initials agree. Only pairs inside a block are scored, so the cost grows with the
number of records plus the number of candidate pairs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from kith.core import clock
from kith.core.errors import ValidationError
from kith.core.viewer import Viewer
from kith.dedupe.models import Merge
from kith.records.models import ContactPoint, Record
from kith.records.selectors import get_type, hidden_records, visible_q
from kith.relationships.models import Relationship
from kith.relationships.selectors import active_on

# Blocks bigger than this are shared values (a switchboard number, info@, "John Smith"),
# not evidence: they are reported as skipped instead of producing n² pairs.
MAX_BLOCK = 25
CONTACT_SCORES = {"email": 90, "phone": 75, "domain": 80}
SAME_NAME = {"person": 45, "organization": 70}
SAME_NAME_OTHER_TYPES = 60
SIMILAR_NAME = 40  # alike names, added to other evidence only
SAME_NAME_AT_ORG = 80
FUZZY_AT_ORG = 85  # least name similarity (0-100) that counts at the same organisation
_LEGAL = {
    "inc", "ltd", "llc", "gmbh", "co", "corp", "corporation", "company", "ag", "sa", "plc",
    "limited", "group", "bv", "nv", "srl", "sarl", "pty", "oy", "ab", "as", "kg", "the",
}  # fmt: skip
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _same_name_score(type_key: str) -> int:
    return SAME_NAME.get(type_key, SAME_NAME_OTHER_TYPES)


def tokens(name_key: str) -> list[str]:
    return _WORD.findall(name_key.casefold())


def name_block(name_key: str, type_key: str) -> str:
    """Sorted name tokens (legal suffixes dropped for organisations): equal means same name."""
    words = tokens(name_key)
    if type_key == "organization":
        words = [w for w in words if w not in _LEGAL] or words
    return " ".join(sorted(words))


def name_similarity(a: str, b: str) -> float:
    """0-100: how alike two names are, word order ignored; an initial matches its name."""
    from rapidfuzz import fuzz  # noqa: PLC0415 - rapidfuzz costs 61 ms to import

    score = float(fuzz.token_sort_ratio(a, b))
    ta, tb = tokens(a), tokens(b)
    if (
        len(ta) >= 2
        and len(tb) >= 2
        and ta[-1] == tb[-1]
        and ta[0][0] == tb[0][0]
        and min(len(ta[0]), len(tb[0])) == 1  # "J Smith" and "John Smith"
    ):
        score = max(score, 88.0)
    return score


@dataclass(slots=True)
class _Pair:
    reasons: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    contact: bool = False
    same_org: bool = False


@dataclass(slots=True)
class _Rec:
    id: str
    type: str
    name: str
    key: str


def _records(viewer: Viewer, type_key: str | None) -> dict[str, _Rec]:
    qs = Record.objects.filter(visible_q(viewer), deleted_at__isnull=True)
    if type_key:
        qs = qs.filter(type_id=type_key)
    return {
        rid: _Rec(rid, t, name, key)
        for rid, t, name, key in qs.values_list("id", "type_id", "name", "name_key").iterator(
            chunk_size=20_000
        )
    }


def _contact_blocks(viewer: Viewer, type_key: str | None) -> Iterator[tuple[str, str, list[str]]]:
    """(kind, value, record ids) for every contact value held by two or more live records
    that ``viewer`` may see."""
    live = ContactPoint.objects.filter(
        visible_q(viewer, "record__"),
        kind__in=list(CONTACT_SCORES),
        record__deleted_at__isnull=True,
    )
    if type_key:
        live = live.filter(record__type_id=type_key)
    shared = (
        live.values("kind", "normalized")
        .annotate(n=Count("record_id", distinct=True))
        .filter(n__gt=1)
        .values_list("kind", "normalized")
    )
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    keys = list(shared.iterator(chunk_size=20_000))
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for kind in {k for k, _ in chunk}:
            values = [v for k, v in chunk if k == kind]
            rows = live.filter(kind=kind, normalized__in=values).values_list(
                "normalized", "record_id"
            )
            for value, rid in rows:
                groups[(kind, value)].append(rid)
    for (kind, value), ids in sorted(groups.items()):
        yield kind, value, sorted(set(ids))


def _employers(viewer: Viewer, ids: Iterable[str], day: dt.date) -> dict[str, set[str]]:
    """Active ``works_at`` organisations ``viewer`` may see of every person, by person id."""
    wanted = set(ids)
    out: dict[str, set[str]] = defaultdict(set)
    rows = (
        Relationship.objects.filter(
            active_on(day), visible_q(viewer, "to_record__"), type_id="works_at"
        )
        .filter(to_record__deleted_at=None)
        .values_list("from_record_id", "to_record_id")
        .iterator(chunk_size=20_000)
    )
    for person, org in rows:
        if person in wanted:
            out[person].add(org)
    return out


def _pairs_in(ids: list[str]) -> Iterator[tuple[str, str]]:
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            yield (a, b) if a < b else (b, a)


def _combine(scores: list[float]) -> float:
    """Independent evidence adds up without passing 100 (1 - product of the doubts)."""
    doubt = 1.0
    for s in scores:
        doubt *= 1 - min(max(s, 0.0), 100.0) / 100
    return 100 * (1 - doubt)


def find_duplicates(
    viewer: Viewer,
    *,
    type_key: str | None = None,
    min_score: int = 50,
    limit: int = 100,
    as_of: dt.date | None = None,
) -> dict[str, Any]:
    """Likely duplicate pairs among the records ``viewer`` may see, best first, each with a
    0-100 score and its reasons (counts and blocks are of those records only)."""
    if not 0 <= min_score <= 100:
        raise ValidationError(f"min-score: {min_score} is not between 0 and 100", field="min_score")
    if limit < 1:
        raise ValidationError(f"limit: {limit} must be at least 1", field="limit")
    tkey = get_type(type_key).key if type_key else None
    recs = _records(viewer, tkey)
    pairs: dict[tuple[str, str], _Pair] = defaultdict(_Pair)
    skipped: list[str] = []

    for kind, value, ids in _contact_blocks(viewer, tkey):
        ids = [i for i in ids if i in recs]
        if len(ids) > MAX_BLOCK:
            skipped.append(f"{kind} {value} is shared by {len(ids)} records")
            continue
        for a, b in _pairs_in(ids):
            if recs[a].type != recs[b].type:
                continue
            p = pairs[(a, b)]
            p.reasons.append(f"same {kind} {value}")
            p.scores.append(CONTACT_SCORES[kind])
            p.contact = True

    block_of = {r.id: name_block(r.key, r.type) for r in recs.values()}
    people = [r.id for r in recs.values() if r.type == "person"]
    employers = _employers(viewer, people, as_of or clock.today())
    orgs = Record.objects.filter(visible_q(viewer), type_id="organization")
    org_names = dict(orgs.values_list("id", "name"))
    at_org: dict[tuple[str, str], list[str]] = defaultdict(list)
    for pid in people:
        words = tokens(recs[pid].key)
        if not words:
            continue
        initials = "".join(sorted({words[0][0], words[-1][0]}))
        for org in employers.get(pid, ()):
            at_org[(org, initials)].append(pid)
    for (org, _), ids in at_org.items():
        if len(ids) < 2:
            continue
        for a, b in _pairs_in(sorted(ids)):
            if (a, b) in pairs and pairs[(a, b)].same_org:
                continue
            org_name = org_names.get(org, org)
            if block_of[a] and block_of[a] == block_of[b]:
                p = pairs[(a, b)]
                p.reasons.append(f"same name at {org_name}")
                p.scores.append(SAME_NAME_AT_ORG)
            else:
                sim = name_similarity(recs[a].key, recs[b].key)
                if sim < FUZZY_AT_ORG:
                    continue
                p = pairs[(a, b)]
                p.reasons.append(f"similar names ({sim:.0f}%) at {org_name}")
                p.scores.append(50 + (sim - FUZZY_AT_ORG) / (100 - FUZZY_AT_ORG) * 30)
            p.same_org = True

    # the same name adds to other evidence; alone it is weak, so pairs sharing only a
    # name are made only when that could reach min_score (organisations, custom types)
    for (a, b), p in pairs.items():
        if not p.same_org and block_of[a] and block_of[a] == block_of[b]:
            p.reasons.append("same name")
            p.scores.append(_same_name_score(recs[a].type))
    by_name: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in recs.values():
        if _same_name_score(r.type) >= min_score and block_of[r.id]:
            by_name[(r.type, block_of[r.id])].append(r.id)
    for (rtype, block), ids in by_name.items():
        if len(ids) > MAX_BLOCK:
            skipped.append(f"the name {block!r} is shared by {len(ids)} {rtype} records")
            continue
        for a, b in _pairs_in(sorted(ids)):
            if (a, b) not in pairs:
                pairs[(a, b)] = _Pair(reasons=["same name"], scores=[_same_name_score(rtype)])

    found: list[tuple[int, str, str, list[str]]] = []
    for (a, b), p in pairs.items():
        ra, rb = recs[a], recs[b]
        score = _combine(p.scores)
        reasons = list(p.reasons)
        if p.contact and not p.same_org and "same name" not in reasons:
            sim = name_similarity(ra.key, rb.key)
            if sim >= FUZZY_AT_ORG:
                score = _combine([*p.scores, SIMILAR_NAME])
                reasons.append(f"similar names ({sim:.0f}%)")
            elif sim < 50:
                score *= 0.7
                reasons.append(f"but the names differ ({sim:.0f}% alike)")
        result = round(score)
        if result < min_score:
            continue
        found.append((result, a, b, reasons))
    found.sort(key=lambda f: (-f[0], f[1], f[2]))
    shown = found[:limit]
    created = dict(
        Record.objects.filter(pk__in={i for _, a, b, _ in shown for i in (a, b)}).values_list(
            "id", "created_at"
        )
    )
    out = []
    for result, a, b, reasons in shown:  # propose to keep the older record
        first, second = sorted((recs[a], recs[b]), key=lambda r: (created[r.id], r.id))
        out.append(
            {
                "score": result,
                "keep": {"id": first.id, "name": first.name, "type": first.type},
                "other": {"id": second.id, "name": second.name, "type": second.type},
                "reasons": reasons,
            }
        )
    return {
        "pairs": out,
        "total": len(found),
        "candidates": len(pairs),
        "records": len(recs),
        "skipped": sorted(skipped)[:50],
        "skipped_count": len(skipped),
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
