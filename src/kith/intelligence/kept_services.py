"""Writes of the kept scores: every record's current health, kept by the events that move it.

``rescore`` computes the whole table (the system's scores as of today, and as of
``trend_days`` earlier for the at-risk ranking) with the same engine as every other read;
``kith rescore`` and the worker run it (daily, once the day turns, and after a change too
large to follow record by record). The event handlers keep it exact in between, inside the
writer's transaction: a change names the records it touched, and those records, with the
organisations they work or worked at, are scored again (``rescore_records``) -- the
same numbers a full computation gives, at the cost of what the change touched. A change
that touches more than ``PATCH_AT_MOST`` records marks the table stale instead and queues
a full rescore on commit; reads fall back to computing from the data until it has run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.db.models import Count

from kith.core import clock, jobs
from kith.intelligence.conf import band, model_config
from kith.intelligence.engine import Snapshot, compute
from kith.intelligence.kept_selectors import CONFIG, DAY, config_key, is_current
from kith.intelligence.models import IntelState, KeptScore, PairStat
from kith.intelligence.services import data_version
from kith.interactions.models import Participant
from kith.records.models import Record
from kith.records.selectors import home_org
from kith.relationships.models import Relationship
from kith.relationships.selectors import team_ids

PATCH_AT_MOST = 2_000  # records one change may rescore in place; more: a full rescore
QUEUED = "rescore_queued"
CHUNK = 500
BATCH = 5_000

Progress = Callable[[str, int, int], None]


def _before(cfg: dict[str, Any], day: dt.date) -> dt.date:
    return day - dt.timedelta(days=int(cfg["trend_days"]))


def _finish(cfg: dict[str, Any], row: KeptScore) -> KeptScore:
    """Fill what follows from the score and the earlier score: the change, and whether the
    record is at risk (the same tests as ``selectors.risk_entry``)."""
    drop = row.previous - row.score
    low = row.score < cfg["at_risk_health"] <= row.previous
    row.change = round(-drop, 1)
    row.at_risk = int(drop >= cfg["falling_points"] or low or row.risk)
    return row


def _person_row(cfg: dict[str, Any], now: Snapshot, then: Snapshot | None, pid: str) -> KeptScore:
    score = now.person_score[pid]
    last = now.person_last.get(pid, "")
    row = KeptScore(
        record_id=pid,
        type_key="person",
        score=score,
        band=band(cfg, score),
        last_two_way=dt.date.fromisoformat(last) if last else None,
        previous=then.person_score.get(pid, 0.0) if then is not None else 0.0,
        value=round(now.value.get(pid, 0.0), 1),
        risk=False,
        newest_event=last,
    )
    return _finish(cfg, row)


def _org_row(cfg: dict[str, Any], now: Snapshot, then: Snapshot | None, oid: str) -> KeptScore:
    s = now.orgs[oid]
    last = str(s.extra.get("last_two_way", ""))
    events = [str(e["date"]) for e in s.extra.get("risk_events", [])]
    before = then.orgs.get(oid) if then is not None else None
    row = KeptScore(
        record_id=oid,
        type_key="organization",
        score=s.score,
        band=s.band,
        last_two_way=dt.date.fromisoformat(last) if last else None,
        previous=before.score if before is not None else 0.0,
        value=round(now.value.get(oid, 0.0), 1),
        risk=bool(events),
        newest_event=max([*events, last]),
    )
    return _finish(cfg, row)


def _set_state(day: str) -> None:
    IntelState.objects.update_or_create(key=DAY, defaults={"value": day})
    IntelState.objects.update_or_create(key=CONFIG, defaults={"value": config_key()})


def rescore(*, progress: Progress | None = None) -> dict[str, Any]:
    """Compute every kept score again (the system's view as of today); ``progress(stage,
    done, total)`` is told how far it got.

    The scoring reads outside any transaction and only the writing is one (on SQLite a
    transaction open for the minutes a big workspace takes to score would hold every
    writer off). A change committed meanwhile (the data version moved) may be missing
    from what was scored: the table is then written but left stale, and another rescore
    queued, so reads keep computing until a rescore saw no change land during it.
    """
    step = progress or (lambda *_: None)
    cfg, day = model_config(), clock.today()
    version = data_version()
    step("scoring today", 0, 2)
    now = compute(cfg, day)
    step("scoring the trend window's start", 1, 2)
    then = compute(cfg, _before(cfg, day))
    step("scored", 2, 2)
    people = set(Record.objects.filter(type_id="person").values_list("id", flat=True))
    dead = set(Record.objects.filter(deleted_at__isnull=False).values_list("id", flat=True))
    rows = [_person_row(cfg, now, then, p) for p in sorted(now.person_score) if p in people]
    for row in rows:
        row.live = 0 if row.record_id in dead else 1
    rows += [_org_row(cfg, now, then, o) for o in sorted(now.orgs)]
    with transaction.atomic():
        IntelState.objects.filter(key=QUEUED).delete()
        KeptScore.objects.all().delete()
        for i in range(0, len(rows), BATCH):
            KeptScore.objects.bulk_create(rows[i : i + BATCH])
            step("writing", min(i + BATCH, len(rows)), len(rows))
        _set_state(day.isoformat())
        if data_version() != version:
            mark_stale()
    n_orgs = len(now.orgs)
    return {"as_of": day.isoformat(), "people": len(rows) - n_orgs, "organizations": n_orgs}


def mark_stale() -> None:
    """The kept scores can no longer be patched: reads compute until a full rescore ran,
    which is queued once (it runs when this transaction commits)."""
    IntelState.objects.filter(key=DAY).update(value="")
    request_rescore()


def request_rescore() -> None:
    """Queue one full rescore (unless one is queued already)."""
    _, created = IntelState.objects.get_or_create(key=QUEUED, defaults={"value": "1"})
    if created:
        jobs.enqueue(rescore_job)


@jobs.job(timeout=3600, max_attempts=3)
def rescore_job() -> dict[str, Any]:
    """Rescore every record, unless another run already made the kept scores current."""
    if is_current():
        IntelState.objects.filter(key=QUEUED).delete()
        return {"skipped": "current"}
    return rescore()


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _types(ids: list[str]) -> dict[str, tuple[str, bool]]:
    out: dict[str, tuple[str, bool]] = {}
    for chunk in _chunks(ids):
        for rid, type_key, deleted in Record.objects.filter(pk__in=chunk).values_list(
            "id", "type_id", "deleted_at"
        ):
            out[rid] = (type_key, deleted is None)
    return out


def _workplaces(people: list[str]) -> set[str]:
    """Every record a rollup tie (works_at) from these people points to, at any time."""
    out: set[str] = set()
    for chunk in _chunks(people):
        out.update(
            Relationship.objects.filter(from_record_id__in=chunk, type__rollup=True).values_list(
                "to_record_id", flat=True
            )
        )
    return out


@transaction.atomic
def rescore_records(
    *,
    ids: Iterable[str],
    since: dt.date | None = None,
    orgs_only: bool = False,
    inline: bool = False,
) -> int:
    """Score these records again, with the organisations their people work or worked at
    (an organisation's health reads its people's); returns how many were scored.

    ``since``: the first day the change reaches; when it is inside the trend window the
    scores ``trend_days`` ago cannot have moved and are kept. Too many records: the table
    is marked stale and a full rescore queued instead. An organisation of more than
    ``INLINE_STAFF`` people is left to the worker (a job queued on commit), unless
    ``inline``: a write is not made to wait for a thousand people's scores.
    """
    if not is_current():
        if IntelState.objects.filter(key=DAY).exists():
            request_rescore()  # kept before, now a day or a configuration behind: catch up
        return 0
    wanted = sorted({i for i in ids if i})
    if len(wanted) > PATCH_AT_MOST:
        mark_stale()
        return 0
    types = _types(wanted)
    people = [] if orgs_only else [i for i in wanted if types.get(i, ("", False))[0] == "person"]
    org_ids = {i for i in wanted if types.get(i, ("", False))[0] == "organization"}
    org_ids |= _workplaces(people)
    if len(people) + len(org_ids) > PATCH_AT_MOST:
        mark_stale()
        return 0
    more = sorted(org_ids - set(types))
    types.update(_types(more))
    home = home_org()
    live_orgs = sorted(
        o
        for o in org_ids
        if types.get(o) == ("organization", True) and (home is None or o != home.id)
    )
    _drop(sorted(org_ids - set(live_orgs)))  # dead or home organisations keep no score
    if not inline:
        big = _big(live_orgs)
        if big:
            queue_orgs(big)
            live_orgs = [o for o in live_orgs if o not in big]
    cfg, day = model_config(), clock.today()
    before = _before(cfg, day)
    keep_previous = since is not None and since > before
    previous: dict[str, float] = {}
    if keep_previous:
        previous = dict(
            KeptScore.objects.filter(record_id__in=[*people, *live_orgs]).values_list(
                "record_id", "previous"
            )
        )
    # our team once for every scope below (one day each), not once per computation
    team = team_ids(day) if people or live_orgs else []
    team_then = [] if keep_previous or not (people or live_orgs) else team_ids(before)
    for chunk in _chunks(people):
        now = compute(cfg, day, ("people", tuple(chunk)), team=team)
        then = (
            None
            if keep_previous
            else compute(cfg, before, ("people", tuple(chunk)), team=team_then)
        )
        rows = [_person_row(cfg, now, then, p) for p in chunk if p in now.person_score]
        for row in rows:
            row.live = 1 if types[row.record_id][1] else 0
        _replace(cfg, chunk, rows, previous if keep_previous else None)
    for chunk in _chunks(live_orgs):
        now = compute(cfg, day, ("orgs", tuple(chunk)), team=team)
        then = (
            None if keep_previous else compute(cfg, before, ("orgs", tuple(chunk)), team=team_then)
        )
        rows = [_org_row(cfg, now, then, o) for o in chunk if o in now.orgs]
        _replace(cfg, chunk, rows, previous if keep_previous else None)
    return len(people) + len(live_orgs)


INLINE_STAFF = 200  # people at an organisation rescored in the writer's transaction


def _big(orgs: list[str]) -> set[str]:
    """Which of these organisations employ more than ``INLINE_STAFF`` people now."""
    if not orgs:
        return set()
    staff = (
        Relationship.objects.filter(to_record_id__in=orgs, type__rollup=True, until__isnull=True)
        .values("to_record_id")
        .annotate(n=Count("id"))
        .filter(n__gt=INLINE_STAFF)
    )
    return set(staff.values_list("to_record_id", flat=True))


def queue_orgs(orgs: Iterable[str]) -> None:
    """Ask the worker to rescore these organisations (once each while one is queued)."""
    fresh = []
    for oid in sorted(orgs):
        _, created = IntelState.objects.get_or_create(key=f"org:{oid}"[:40])
        if created:
            fresh.append(oid)
    if fresh:
        jobs.enqueue(rescore_orgs_job, ids=fresh)


@jobs.job(timeout=600, max_attempts=3)
def rescore_orgs_job(*, ids: list[str]) -> int:
    """Rescore organisations a write left to the worker (now and ``trend_days`` earlier)."""
    IntelState.objects.filter(key__in=[f"org:{oid}"[:40] for oid in ids]).delete()
    return rescore_records(ids=ids, inline=True)


def _drop(ids: list[str]) -> None:
    for chunk in _chunks(ids):
        KeptScore.objects.filter(record_id__in=chunk).delete()


def _replace(
    cfg: dict[str, Any], ids: list[str], rows: list[KeptScore], previous: dict[str, float] | None
) -> None:
    if previous is not None:
        for row in rows:
            row.previous = previous.get(row.record_id, 0.0)
            _finish(cfg, row)
    # an upsert, not delete-then-insert: two writers rescoring the same record at once
    # (PostgreSQL) would otherwise both insert it, and the second would fail on its key
    kept = {row.record_id for row in rows}
    KeptScore.objects.filter(record_id__in=[i for i in ids if i not in kept]).delete()
    KeptScore.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["record_id"],
        update_fields=[f.name for f in KeptScore._meta.concrete_fields if not f.primary_key],
    )


# --- event handlers (run inside the writer's transaction, after the pair table's) ----------


def on_interaction_logged(*, interaction_id: str, **_: Any) -> None:
    rows = list(
        Participant.objects.filter(interaction_id=interaction_id).values_list("record_id", "at")
    )
    if rows:
        day = min(at for _, at in rows).astimezone(dt.UTC).date()
        rescore_records(ids=[r for r, _ in rows], since=day)


def on_interaction_changed(*, record_ids: list[str], since: str, **_: Any) -> None:
    rescore_records(ids=record_ids, since=dt.date.fromisoformat(since))


def on_relationship_changed(*, relationship_id: str, **_: Any) -> None:
    """A works_at moves an organisation's staff; one to our organisation moves our team,
    and with it the health of everyone the new (or former) member is in touch with."""
    rel = Relationship.objects.select_related("type").filter(pk=relationship_id).first()
    if rel is None or not rel.type.rollup:
        return  # only rollup ties (works_at) enter a score
    ids = {rel.from_record_id, rel.to_record_id}
    home = home_org()
    if home is not None and rel.to_record_id == home.id:
        member = rel.from_record_id
        touched = PairStat.objects.filter(member_id=member).values("person_id").distinct()
        ids.update(touched.values_list("person_id", flat=True)[: PATCH_AT_MOST + 1])
    rescore_records(ids=ids)


def on_record_changed(*, record_id: str, **_: Any) -> None:
    """Created, renamed, merged, deleted or restored: score it (and its workplaces) again."""
    rescore_records(ids=[record_id])


def on_records_imported(*, created_ids: list[str], updated_ids: list[str], **_: Any) -> None:
    """An import batch: its organisations now (its people once their pairs are counted,
    on ``bulk.loaded``)."""
    rescore_records(ids=[*created_ids, *updated_ids], orgs_only=True)


def on_bulk_loaded(*, people: list[str] | None = None, **_: Any) -> None:
    """A small import names the people it touched: score them; a bulk load: rescore all."""
    if people is not None and len(people) <= PATCH_AT_MOST:
        rescore_records(ids=people)
    else:
        mark_stale()
