"""Blocking keys and the score of one pair: the one rule both the whole search and the
kept pairs (``kith.dedupe.kept``) apply, so that keeping them equals rebuilding them.

A record's keys: each normalised contact value (``email:…``, ``phone:…``, ``domain:…``);
for a person, each organisation they work at now with their first and last initials
(``org:<id>:<initials>``); and its sorted name words (``name:<type>:<words>``) where the
same name alone may reach the least score asked for. Two records are a candidate pair
when they share a key held by at most ``MAX_BLOCK`` records; bigger blocks are shared
values (a switchboard number, info@, "John Smith"), reported as capped, not paired.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Q

from kith.core.viewer import Viewer
from kith.records.models import ContactPoint, Record
from kith.records.selectors import visible_q
from kith.relationships.models import Relationship
from kith.relationships.selectors import active_on

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
CHUNK = 500


def same_name_score(type_key: str) -> int:
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
class Info:
    """What scoring needs of one live record."""

    id: str
    type: str
    name: str
    key: str
    created_at: Any  # as the database returns it (compared within one database only)
    block: str = ""
    contacts: set[tuple[str, str]] = field(default_factory=set)
    orgs: set[str] = field(default_factory=set)
    made: dict[int, frozenset[str]] = field(default_factory=dict)  # keys by least score

    def keys(self, min_score: int) -> frozenset[str]:
        """The record's blocking keys (worked out once: contacts and orgs are loaded first)."""
        found = self.made.get(min_score)
        if found is None:
            found = self.made[min_score] = frozenset(self._keys(min_score))
        return found

    def _keys(self, min_score: int) -> set[str]:
        out = {f"{kind}:{value}" for kind, value in self.contacts}
        words = tokens(self.key)
        if words and self.type == "person":
            initials = "".join(sorted({words[0][0], words[-1][0]}))
            out |= {f"org:{org}:{initials}" for org in self.orgs}
        if self.block and same_name_score(self.type) >= min_score:
            out.add(f"name:{self.type}:{self.block}")
        return out


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def load_infos(
    viewer: Viewer,
    *,
    day: dt.date,
    ids: Iterable[str] | None = None,
    type_key: str | None = None,
    shared_orgs: bool = False,
) -> dict[str, Info]:
    """The live records ``viewer`` may see (all, or of ``ids``), with their contacts and
    the organisations (that ``viewer`` may see; with ``shared_orgs``, that are not private)
    people work at on ``day``. Three queries (per 500 ids)."""
    wanted = None if ids is None else sorted(set(ids))
    infos: dict[str, Info] = {}
    parts = [None] if wanted is None else list(_chunks(wanted))
    for part in parts:
        where = Q(visible_q(viewer), deleted_at__isnull=True)
        if part is not None:
            where &= Q(pk__in=part)
        if type_key:
            where &= Q(type_id=type_key)
        rows = Record.objects.filter(where).values_list(
            "id", "type_id", "name", "name_key", "created_at"
        )
        # created_at as stored (only compared, to propose the older record): converting
        # every value to a datetime costs more than reading it
        sql, params = rows.query.sql_with_params()
        with connection.cursor() as cur:
            cur.execute(sql, params)
            while batch := cur.fetchmany(20_000):
                for rid, tkey, name, nkey, created in batch:
                    infos[rid] = Info(rid, tkey, name, nkey, created, name_block(nkey, tkey))
        if not infos:
            continue
        contacts = ContactPoint.objects.filter(
            kind__in=list(CONTACT_SCORES), record__deleted_at__isnull=True
        )
        jobs = Relationship.objects.filter(
            active_on(day), visible_q(viewer, "to_record__"), type_id="works_at"
        ).filter(to_record__deleted_at=None)
        if shared_orgs:
            jobs = jobs.filter(to_record__private=False)
        if part is not None:
            contacts = contacts.filter(record_id__in=part)
            jobs = jobs.filter(from_record_id__in=part)
        for rid, kind, value in contacts.values_list("record_id", "kind", "normalized").iterator(
            chunk_size=20_000
        ):
            if rid in infos:
                infos[rid].contacts.add((kind, value))
        for person, org in jobs.values_list("from_record_id", "to_record_id").iterator(
            chunk_size=20_000
        ):
            if person in infos and infos[person].type == "person":
                infos[person].orgs.add(org)
    return infos


def _combine(scores: list[float]) -> float:
    """Independent evidence adds up without passing 100 (1 - product of the doubts)."""
    doubt = 1.0
    for s in scores:
        doubt *= 1 - min(max(s, 0.0), 100.0) / 100
    return 100 * (1 - doubt)


def score_pair(
    a: Info,
    b: Info,
    usable: set[str],
    org_names: Mapping[str, str],
    min_score: int,
) -> tuple[int, list[str]] | None:
    """The 0-100 score of ``a`` and ``b`` and its reasons, from the keys they share that
    are ``usable`` (held by at most ``MAX_BLOCK`` records); None below ``min_score``."""
    if a.type != b.type:
        return None
    shared = sorted(a.keys(min_score) & b.keys(min_score) & usable)
    if not shared:
        return None
    reasons: list[str] = []
    scores: list[float] = []
    contact = same_org = False
    for key in shared:
        kind, _, value = key.partition(":")
        if kind in CONTACT_SCORES:
            reasons.append(f"same {kind} {value}")
            scores.append(CONTACT_SCORES[kind])
            contact = True
    orgs = sorted(k.split(":")[1] for k in shared if k.startswith("org:"))
    if orgs:
        org_name = org_names.get(orgs[0], orgs[0])
        if a.block and a.block == b.block:
            reasons.append(f"same name at {org_name}")
            scores.append(SAME_NAME_AT_ORG)
            same_org = True
        else:
            sim = name_similarity(a.key, b.key)
            if sim >= FUZZY_AT_ORG:
                reasons.append(f"similar names ({sim:.0f}%) at {org_name}")
                scores.append(50 + (sim - FUZZY_AT_ORG) / (100 - FUZZY_AT_ORG) * 30)
                same_org = True
    if not reasons and not any(k.startswith("name:") for k in shared):
        return None  # only an organisation in common, and names that differ
    if not same_org and a.block and a.block == b.block:
        reasons.append("same name")
        scores.append(same_name_score(a.type))
    score = _combine(scores)
    if contact and not same_org and "same name" not in reasons:
        sim = name_similarity(a.key, b.key)
        if sim >= FUZZY_AT_ORG:
            score = _combine([*scores, SIMILAR_NAME])
            reasons.append(f"similar names ({sim:.0f}%)")
        elif sim < 50:
            score *= 0.7
            reasons.append(f"but the names differ ({sim:.0f}% alike)")
    result = round(score)
    return (result, reasons) if result >= min_score else None


def ordered(a: Info, b: Info) -> tuple[Info, Info]:
    """The pair with the record to keep (the older) first."""
    first, second = sorted((a, b), key=lambda r: (r.created_at, r.id))
    return first, second


def blocks_of(infos: Mapping[str, Info], min_score: int) -> dict[str, list[str]]:
    """Every key held by two or more of ``infos``, with its holders (sorted)."""
    holders: dict[str, list[str]] = defaultdict(list)
    for info in infos.values():
        for key in info.keys(min_score):
            holders[key].append(info.id)
    return {k: sorted(ids) for k, ids in holders.items() if len(ids) > 1}


def pairs_in(ids: list[str]) -> Iterator[tuple[str, str]]:
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            yield (a, b) if a < b else (b, a)


def capped_text(key: str, size: int, org_names: Mapping[str, str]) -> str:
    """A capped block in words."""
    kind, _, rest = key.partition(":")
    if kind == "name":
        rtype, _, words = rest.partition(":")
        return f"the name {words!r} is shared by {size} {rtype} records"
    if kind == "org":
        org, _, initials = rest.partition(":")
        who = org_names.get(org, org)
        return f"{size} people at {who} share the initials {', '.join(initials)}"
    return f"{kind} {rest} is shared by {size} records"


def org_names_of(keys: Iterable[str]) -> dict[str, str]:
    """The names of the organisations named by ``org:`` keys (one query)."""
    ids = {k.split(":")[1] for k in keys if k.startswith("org:")}
    if not ids:
        return {}
    return dict(Record.objects.filter(pk__in=ids).values_list("id", "name"))


@dataclass(slots=True)
class Found:
    """Pairs scoring at least the least score asked for, best first, and capped blocks."""

    infos: dict[str, Info]
    blocks: dict[str, list[str]]
    pairs: list[tuple[int, str, str, list[str]]]  # score, a, b (a < b), reasons
    capped: list[tuple[str, int]]
    org_names: dict[str, str]
    candidates: int


def compute(
    viewer: Viewer,
    *,
    day: dt.date,
    min_score: int,
    type_key: str | None = None,
    shared_orgs: bool = False,
) -> Found:
    """Every likely pair among the live records ``viewer`` may see, computed whole."""
    infos = load_infos(viewer, day=day, type_key=type_key, shared_orgs=shared_orgs)
    blocks = blocks_of(infos, min_score)
    capped = sorted((k, len(ids)) for k, ids in blocks.items() if len(ids) > MAX_BLOCK)
    usable = {k for k, ids in blocks.items() if len(ids) <= MAX_BLOCK}
    candidates: set[tuple[str, str]] = set()
    for key in usable:
        candidates.update(pairs_in(blocks[key]))
    names = org_names_of([*usable, *(k for k, _ in capped)])
    found = []
    for a, b in candidates:
        scored = score_pair(infos[a], infos[b], usable, names, min_score)
        if scored is not None:
            found.append((scored[0], a, b, scored[1]))
    found.sort(key=lambda f: (-f[0], f[1], f[2]))
    return Found(infos, blocks, found, capped, names, len(candidates))
