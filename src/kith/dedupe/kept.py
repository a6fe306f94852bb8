"""Duplicate pairs kept as records change, instead of searched for whole on each read.

Three tables: ``DupKey`` (each live record's blocking keys), ``DupBlock`` (how many
records hold a key, for keys held by two or more) and ``DupPair`` (each pair scoring at
least ``KEPT_MIN``, with its reasons). ``refresh(ids)`` brings them up to date for the
records whose data changed: their keys, the sizes of the blocks they left or joined, the
pairs they are in, and the pairs of a block that crossed the cap (``MAX_BLOCK``) either
way. It runs in the writer's transaction, on the events of every write path
(``record.*``, ``relationship.*``, ``records.imported``, ``bulk.loaded``). ``rebuild()``
computes everything whole with the same rule (``kith.dedupe.blocking``); a test checks
that refreshing after each kind of change equals rebuilding.

Kept pairs are the system's view with one difference from a viewer's whole search:
working at a *private* organisation is not evidence (its name would show in reasons).
Employment that ends on a future date stops counting the day it ends, which no event
marks: the daily ``dedupe.rebuild`` job puts that right.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q

from kith.core import clock
from kith.core.viewer import SYSTEM
from kith.dedupe.blocking import (
    MAX_BLOCK,
    Info,
    compute,
    load_infos,
    ordered,
    org_names_of,
    pairs_in,
    score_pair,
)
from kith.dedupe.models import DupBlock, DupKey, DupPair, DupState
from kith.records.models import Record
from kith.relationships.models import Relationship

KEPT_MIN = 50  # pairs scoring less are not kept (a lower --min-score searches whole)
INLINE_MAX = 50_000  # a bulk load of more records rebuilds in the worker, not in the load
_CHUNK = 500
_K = DupKey._meta.db_table
_B = DupBlock._meta.db_table
_P = DupPair._meta.db_table


def _chunks(items: Iterable[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def is_built() -> bool:
    return DupState.objects.filter(pk=1, rebuilt_at__isnull=False).exists()


def is_stale() -> bool:
    """Whether a rebuild is queued (the kept pairs are as they were before a big load)."""
    return DupState.objects.filter(pk=1, stale=True).exists()


def _pair_row(a: Info, b: Info, score: int, reasons: list[str]) -> tuple[Any, ...]:
    keep, _ = ordered(a, b)
    x, y = (a, b) if a.id < b.id else (b, a)
    return (x.id, y.id, keep.id, x.type, score, connection.ops.adapt_json_value(reasons, None))


def _insert(sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    with connection.cursor() as cur:
        for chunk in _chunks(rows, 5000):
            cur.executemany(sql, chunk)


_PAIR_SQL = (
    f"INSERT INTO {_P} (a_id, b_id, keep_id, type_key, score, reasons) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)


def expected() -> set[tuple[str, str, str, int, tuple[str, ...]]]:
    """The kept pairs a whole rebuild would make now (a, b, keep, score, reasons)."""
    found = compute(SYSTEM, day=clock.today(), min_score=KEPT_MIN, shared_orgs=True)
    out = set()
    for score, a, b, reasons in found.pairs:
        keep, _ = ordered(found.infos[a], found.infos[b])
        out.add((a, b, keep.id, score, tuple(reasons)))
    return out


def kept() -> set[tuple[str, str, str, int, tuple[str, ...]]]:
    """The kept pairs as stored (a, b, keep, score, reasons)."""
    rows = DupPair.objects.values_list("a_id", "b_id", "keep_id", "score", "reasons")
    return {(a, b, k, s, tuple(r)) for a, b, k, s, r in rows}


@transaction.atomic
def rebuild() -> dict[str, int]:
    """Compute every key, block and pair whole and keep them (``kith duplicates rebuild``,
    the daily job, a bulk load that does not say what it touched)."""
    found = compute(SYSTEM, day=clock.today(), min_score=KEPT_MIN, shared_orgs=True)
    DupPair.objects.all().delete()
    DupBlock.objects.all().delete()
    DupKey.objects.all().delete()
    _insert(
        f"INSERT INTO {_K} (record_id, key) VALUES (%s, %s)",
        ((i.id, k) for i in found.infos.values() for k in sorted(i.keys(KEPT_MIN))),
    )
    _insert(
        f"INSERT INTO {_B} (key, size) VALUES (%s, %s)",
        ((k, len(ids)) for k, ids in found.blocks.items()),
    )
    _insert(
        _PAIR_SQL,
        (_pair_row(found.infos[a], found.infos[b], s, r) for s, a, b, r in found.pairs),
    )
    DupState.objects.update_or_create(
        pk=1, defaults={"rebuilt_at": clock.now(), "capped": len(found.capped), "stale": False}
    )
    return {
        "records": len(found.infos),
        "keys": sum(len(i.keys(KEPT_MIN)) for i in found.infos.values()),
        "pairs": len(found.pairs),
        "capped": len(found.capped),
    }


def _sizes(keys: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in _chunks(sorted(set(keys))):
        rows = DupKey.objects.filter(key__in=chunk).values("key").annotate(n=Count("id"))
        out.update({r["key"]: r["n"] for r in rows})
    return out


def _usable(size: int) -> bool:
    return 2 <= size <= MAX_BLOCK


def refresh(ids: Iterable[str]) -> None:
    """Bring the kept keys, blocks and pairs up to date for the records ``ids``."""
    touched = {i for i in ids if i}
    if not touched or not is_built() or is_stale():
        return  # nothing kept yet, or a queued rebuild will see these changes
    orgs = list(Record.objects.filter(pk__in=touched, type_id="organization").values("id"))
    if orgs:  # an organisation's people hold keys that name it
        staff = Relationship.objects.filter(to_record_id__in=[o["id"] for o in orgs])
        touched |= set(staff.filter(type_id="works_at").values_list("from_record_id", flat=True))
    day = clock.today()
    old: dict[str, set[str]] = defaultdict(set)
    for chunk in _chunks(sorted(touched)):
        for rid, key in DupKey.objects.filter(record_id__in=chunk).values_list("record_id", "key"):
            old[rid].add(key)
    infos = load_infos(SYSTEM, day=day, ids=touched, shared_orgs=True)
    new = {rid: info.keys(KEPT_MIN) for rid, info in infos.items()}
    changed = set().union(*old.values(), *new.values())
    before = {}
    for chunk in _chunks(sorted(changed)):
        before.update(dict(DupBlock.objects.filter(key__in=chunk).values_list("key", "size")))
    for chunk in _chunks(sorted(touched)):
        DupKey.objects.filter(record_id__in=chunk).delete()
    _insert(
        f"INSERT INTO {_K} (record_id, key) VALUES (%s, %s)",
        ((rid, k) for rid, keys in sorted(new.items()) for k in sorted(keys)),
    )
    after = _sizes(changed)
    for chunk in _chunks(sorted(changed)):
        DupBlock.objects.filter(key__in=chunk).delete()
    _insert(
        f"INSERT INTO {_B} (key, size) VALUES (%s, %s)",
        ((k, n) for k, n in sorted(after.items()) if n >= 2),
    )
    now_usable = {k for k in changed if _usable(after.get(k, 0))}
    members: dict[str, list[str]] = defaultdict(list)
    for chunk in _chunks(sorted(now_usable)):
        for key, rid in DupKey.objects.filter(key__in=chunk).values_list("key", "record_id"):
            members[key].append(rid)
    redo: set[tuple[str, str]] = set()
    for rid, keys in new.items():
        for key in keys & now_usable:
            redo.update((min(rid, m), max(rid, m)) for m in members[key] if m != rid)
    for key in now_usable:
        if not _usable(before.get(key, 0)):  # a block that became small enough to pair
            redo.update(pairs_in(sorted(members[key])))
    for chunk in _chunks(sorted(touched)):
        near = DupPair.objects.filter(Q(a_id__in=chunk) | Q(b_id__in=chunk))
        redo.update(near.values_list("a_id", "b_id"))
    for key in changed - now_usable:
        if _usable(before.get(key, 0)):  # a block that grew past the cap or emptied
            held = DupKey.objects.filter(key=key).values("record_id")
            inside = DupPair.objects.filter(a_id__in=held, b_id__in=held)
            redo.update(inside.values_list("a_id", "b_id"))
    _score(redo, infos)


def _score(redo: set[tuple[str, str]], known: dict[str, Info]) -> None:
    """Recompute the pairs ``redo`` (deleting those that no longer score)."""
    if not redo:
        return
    involved = {i for pair in redo for i in pair}
    infos = dict(known)
    infos.update(load_infos(SYSTEM, day=clock.today(), ids=involved - set(known), shared_orgs=True))
    keys = set().union(*(infos[i].keys(KEPT_MIN) for i in involved if i in infos))
    usable = {k for k, n in _sizes(keys).items() if _usable(n)}
    names = org_names_of(usable)
    rows = []
    for a, b in sorted(redo):
        if a in infos and b in infos:
            scored = score_pair(infos[a], infos[b], usable, names, KEPT_MIN)
            if scored is not None:
                rows.append(_pair_row(infos[a], infos[b], *scored))
    by_a: dict[str, list[str]] = defaultdict(list)
    for a, b in redo:
        by_a[a].append(b)
    for a, bs in by_a.items():
        for chunk in _chunks(bs):
            DupPair.objects.filter(a_id=a, b_id__in=chunk).delete()
    _insert(_PAIR_SQL, rows)


# Event handlers: they run inside the writer's transaction.


def on_record(record_id: str, **_: Any) -> None:
    refresh([record_id])


def on_relationship(relationship_id: str, **_: Any) -> None:
    rel = Relationship.objects.filter(pk=relationship_id).values("from_record_id").first()
    if rel is not None:
        refresh([rel["from_record_id"]])


def on_imported(created_ids: list[str], updated_ids: list[str], **_: Any) -> None:
    refresh([*created_ids, *updated_ids])


def on_bulk_loaded(counts: dict[str, int] | None = None, **payload: Any) -> None:
    """Refresh what the load touched when it says (``people``, ``record_ids``); else
    rebuild whole, once, at the end of the load (a load of interactions only changes no
    duplicate: nothing to do)."""
    ids = payload.get("record_ids", payload.get("people"))
    if ids is not None:
        refresh(ids)
        return
    tables = ("records", "contacts", "relationships")
    if not is_built() or (counts is not None and not any(counts.get(t) for t in tables)):
        return
    if counts is not None and counts.get("records", 0) > INLINE_MAX:
        from kith.core import jobs  # noqa: PLC0415
        from kith.dedupe.jobs import rebuild_after_load  # noqa: PLC0415

        DupState.objects.filter(pk=1).update(stale=True)
        jobs.enqueue(rebuild_after_load)
        return
    rebuild()
