"""How records are searched: by name, email, phone (any punctuation), domain, and, in the
ranked search, by a name a typo away and by the subjects of their interactions.

The one rule: ``search_q`` is the match every list filters by (``records_page`` for
``GET /api/v1/records?q=`` and the web's suggestions, ``list_records`` for
``kith list --search``, the web's lists in ``kith.lists``); ``search_records`` ranks those
matches (the header's search, the search page, ``kith search``, ``GET /api/v1/search``)
and, when they do not fill the page, adds names a typo away and then the records that
took part in interactions whose subject has the words typed.

Both read the search index (``kith.records.search_index``: FTS5 trigram tables on SQLite,
``pg_trgm`` on PostgreSQL), so the cost follows the matches, not the workspace.
Visibility is in the query: the matches are ids filtered by the viewer's ``visible_q``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from kith.core.errors import ValidationError
from kith.records.models import ContactPoint, Record
from kith.records.normalize import name_key
from kith.records.search_index import has_trigram

SEARCH_MAX = 300
TYPO_MIN = 4  # shorter terms are matched exactly only
TYPO_SCORE = 80  # least likeness (0-100) of a name, or of its words, a typo away
TYPO_CANDIDATES = 300
DENSE = 1000  # FTS matches from which a term counts as common (read in order instead)
_PHONE_LIKE = re.compile(r"[\d\s().+\-/]+")
_WORDS = re.compile(r"[^\W_]+", re.UNICODE)
_TOP = "\U0010ffff"

# More ways to find records, registered by apps above records (interactions: subjects):
# each takes the term and a limit and answers record ids, best first.
Source = Callable[[str, int], list[str]]
_sources: list[Source] = []


def register_source(source: Source) -> None:
    """Let ``search_records`` find records through ``source`` after its own matches."""
    if source not in _sources:
        _sources.append(source)


def check_search(text: str | None, *, field: str = "q") -> str:
    """``text`` stripped; refused when longer than ``SEARCH_MAX``."""
    term = (text or "").strip()
    if len(term) > SEARCH_MAX:
        raise ValidationError(f"{field}: longer than {SEARCH_MAX} characters", field=field)
    return term


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 phrase (any character allowed inside the quotes)."""
    return '"' + text.replace('"', '""') + '"'


def _sqlite() -> bool:
    return connection.vendor == "sqlite"


def _fts_hits(table: str, match: str) -> int:
    """How many rows of the FTS ``table`` match, counted up to ``DENSE`` (cheap)."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH %s LIMIT %s)",
            [match, DENSE],
        )
        row = cur.fetchone()
    return int(row[0]) if row else 0


def _names_containing(key: str) -> Q:
    """Records whose ``name_key`` contains ``key``: on SQLite from the index when few
    names hold it; when many do, walking the names in order finds a page sooner."""
    if _sqlite() and len(key) >= 3:
        match = fts_phrase(key)
        if _fts_hits("records_name_fts", match) < DENSE:
            return Q(pk__in=RawSQL(_NAME_IDS, [match]))
    return Q(name_key__contains=key)  # PostgreSQL: the pg_trgm index answers LIKE


_NAME_IDS = (
    "SELECT id FROM records_record WHERE rowid IN "
    "(SELECT rowid FROM records_name_fts WHERE records_name_fts MATCH %s)"
)
_CONTACT_IDS = (
    "SELECT record_id FROM records_contactpoint WHERE {where}id IN "
    "(SELECT rowid FROM records_contact_fts WHERE records_contact_fts MATCH %s)"
)


def search_q(text: str) -> Q:
    """Records whose name contains ``text`` or with an email, phone or domain containing it.

    A phone is matched on its digits, so "415 555" and "(415) 555" find +1 (415) 555-0199.
    On SQLite a term that few names and contacts hold is looked up in the FTS5 index (one
    list of ids); a term that thousands hold is tested row by row while a page is read in
    order, which stops early. PostgreSQL plans the ``LIKE`` with its trigram indexes.
    """
    term = text.strip().lower()
    key = name_key(text)
    digits = re.sub(r"\D", "", term)
    phone = len(digits) >= 3 and bool(_PHONE_LIKE.fullmatch(term)) and digits != term
    if _sqlite() and len(key) >= 3 and len(term) >= 3:
        parts = [(_NAME_IDS, fts_phrase(key), "records_name_fts")]
        parts.append((_CONTACT_IDS.format(where=""), fts_phrase(term), "records_contact_fts"))
        if phone:
            parts.append((_CONTACT_IDS.format(where="kind = 'phone' AND "), fts_phrase(digits), ""))
        if all(_fts_hits(table, match) < DENSE for _, match, table in parts if table):
            sql = " UNION ALL ".join(part for part, _, _ in parts)
            return Q(pk__in=RawSQL(sql, [match for _, match, _ in parts]))
    if not _sqlite():  # PostgreSQL: the pg_trgm indexes answer these LIKEs
        found = Q(name_key__contains=key)
        found |= Q(
            pk__in=ContactPoint.objects.filter(normalized__contains=term).values("record_id")
        )
        if phone:
            by_digits = ContactPoint.objects.filter(kind="phone", normalized__contains=digits)
            found |= Q(pk__in=by_digits.values("record_id"))
        return found
    contact = ContactPoint.objects.filter(record_id=OuterRef("pk"), normalized__contains=term)
    found = Q(name_key__contains=key) | Q(Exists(contact))
    if phone:
        by_digits = ContactPoint.objects.filter(
            record_id=OuterRef("pk"), kind="phone", normalized__contains=digits
        )
        found |= Q(Exists(by_digits))
    return found


def _starting_with(key: str) -> Q:
    if _sqlite():  # a range on the name_key index (BINARY order: every "key…" is inside)
        return Q(name_key__gte=key, name_key__lt=key + _TOP)
    return Q(name_key__startswith=key)


def typo_score(key: str, name: str) -> float:
    """0-100: how alike ``key`` is to ``name`` or to as many of its words as ``key`` has."""
    from rapidfuzz import fuzz  # noqa: PLC0415 - rapidfuzz costs 61 ms to import

    best = float(fuzz.ratio(key, name))
    words, n = name.split(), max(1, len(key.split()))
    for i in range(max(0, len(words) - n + 1)):
        best = max(best, float(fuzz.ratio(key, " ".join(words[i : i + n]))))
    return best


def _typo_candidates(base: QuerySet[Record], key: str) -> list[tuple[str, str]]:
    """(id, name_key) of records sharing trigrams with ``key``, likeliest first."""
    grams = sorted({key[i : i + 3] for i in range(len(key) - 2)} - {"   "})
    if not grams:
        return []
    if _sqlite():
        sql = (
            "SELECT id FROM records_record WHERE rowid IN (SELECT rowid FROM records_name_fts "
            "WHERE records_name_fts MATCH %s ORDER BY rank LIMIT %s)"
        )
        match = " OR ".join(fts_phrase(g) for g in grams)
        qs = base.filter(pk__in=RawSQL(sql, [match, TYPO_CANDIDATES]))
    else:
        near = Q()
        for g in grams:
            near |= Q(name_key__contains=g)
        qs = base.filter(near)
        if has_trigram():
            qs = qs.annotate(near=RawSQL("word_similarity(%s, records_record.name_key)", [key]))
            qs = qs.order_by("-near", "id")
        qs = qs[:TYPO_CANDIDATES]
    return list(qs.values_list("id", "name_key"))


def _typo_ids(base: QuerySet[Record], key: str, skip: set[str]) -> list[str]:
    scored = [
        (score, nk, rid)
        for rid, nk in _typo_candidates(base, key)
        if rid not in skip and (score := typo_score(key, nk)) >= TYPO_SCORE
    ]
    return [rid for _, _, rid in sorted(scored, key=lambda s: (-s[0], s[1], s[2]))]


def ranked_ids(base: QuerySet[Record], term: str, limit: int) -> list[str]:
    """Ids of the records of ``base`` matching ``term``, best first, at most ``limit``:
    the exact name, names starting with it, a word of the name starting with it, a name or
    contact containing it, names a typo away, then what other sources find (subjects)."""
    key = name_key(term)
    ids: list[str] = []
    seen: set[str] = set()

    def take(found: Iterable[str]) -> None:
        for rid in found:
            if rid not in seen and len(ids) < limit:
                seen.add(rid)
                ids.append(rid)

    def page(q: Q) -> list[str]:
        wanted = limit - len(ids) + len(seen)
        qs = base.filter(q).order_by("name_key", "id").values_list("id", flat=True)
        return list(qs[:wanted])

    take(base.filter(name_key=key).order_by("id").values_list("id", flat=True)[:limit])
    steps: list[Callable[[], Iterable[str]]] = [
        lambda: page(_starting_with(key)),
        lambda: page(_names_containing(" " + key)),
        lambda: page(search_q(term)),
    ]
    if len(key) >= TYPO_MIN:  # "did you mean": only when nothing matched as typed
        steps.append(lambda: [] if ids else _typo_ids(base, key, seen))

    def visible(found: list[str]) -> list[str]:
        ok = set(base.filter(pk__in=found).values_list("id", flat=True))
        return [rid for rid in found if rid in ok]

    for source in _sources:
        steps.append(lambda source=source: visible(source(term, limit * 4)))  # type: ignore[misc]
    for step in steps:
        if len(ids) >= limit:
            break
        take(step())
    return ids


def with_contacts(qs: QuerySet[Record]) -> QuerySet[Record]:
    """``qs`` with each record's contact points, primary first (for summaries)."""
    return qs.prefetch_related(
        Prefetch("contacts", queryset=ContactPoint.objects.order_by("-primary", "id"))
    )
