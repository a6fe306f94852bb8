"""Reads: pipelines, deals (now or as of a day), a deal's page, the board, an account's
deals. Every read takes the ``Viewer`` and leaves out, in the query, the records it may
not see: a private deal is in no list, board, sum or count of someone it is hidden from.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from kith.core import clock
from kith.core.errors import NotFound, ValidationError
from kith.core.parse import parse_date
from kith.core.viewer import Viewer
from kith.pipelines.models import Pipeline, Position, Stage, StageChange
from kith.records.models import Record
from kith.records.selectors import resolve, visible_q
from kith.relationships.models import Relationship

CARDS_PER_STAGE = 50


def day_end(day: dt.date) -> dt.datetime:
    """The first moment after ``day`` (UTC): what happened before it counts as of ``day``."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def as_of_day(value: str | dt.date | None, *, field: str = "as_of") -> dt.date:
    """An as-of day (default today, UTC); a day in the future is refused."""
    day = parse_date(value, field=field) or clock.today()
    if day > clock.today():
        raise ValidationError(f"{field}: {day.isoformat()} is in the future", field=field)
    return day


def get_pipeline(key: str | None, *, type_key: str = "deal", field: str = "pipeline") -> Pipeline:
    """A pipeline by key, or the first pipeline of ``type_key``."""
    if key:
        p = Pipeline.objects.filter(pk=key.strip().lower()).first()
        if p is None:
            raise NotFound(f"{field}: no pipeline {key!r}", field=field)
        return p
    p = Pipeline.objects.filter(record_type_id=type_key).order_by("created_at", "key").first()
    if p is None:
        raise NotFound(f"{field}: no pipeline for {type_key} yet", field=field)
    return p


def stage_view(s: Stage) -> dict[str, Any]:
    return {
        "key": s.key,
        "label": s.label,
        "position": s.position,
        "probability": round(s.probability * 100, 1),
        "category": s.category,
    }


def pipeline_view(p: Pipeline) -> dict[str, Any]:
    return {
        "key": p.key,
        "label": p.label,
        "type": p.record_type_id,
        "lost_reason_required": p.lost_reason_required,
        "stages": [stage_view(s) for s in p.stages.order_by("position")],
        "lost_reasons": list(p.reasons.values_list("key", flat=True)),
    }


def pipelines(viewer: Viewer, *, type_key: str | None = None) -> list[dict[str, Any]]:
    """Every pipeline (definitions are not private), with stages and lost reasons."""
    qs = Pipeline.objects.order_by("key").prefetch_related("stages", "reasons")
    if type_key:
        qs = qs.filter(record_type_id=type_key)
    return [pipeline_view(p) for p in qs]


def _names(viewer: Viewer, ids: set[str]) -> dict[str, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    qs = Record.objects.filter(visible_q(viewer), pk__in=wanted, deleted_at=None)
    return dict(qs.values_list("id", "name"))


def _accounts(viewer: Viewer, deal_ids: list[str]) -> dict[str, tuple[str, str]]:
    """deal id -> (account id, name) for accounts ``viewer`` may see (one query)."""
    rows = (
        Relationship.objects.filter(type_id="deal_for", from_record_id__in=deal_ids)
        .filter(visible_q(viewer, "to_record__"), to_record__deleted_at=None)
        .order_by("id")
        .values_list("from_record_id", "to_record_id", "to_record__name")
    )
    out: dict[str, tuple[str, str]] = {}
    for deal, acct, name in rows:
        out.setdefault(deal, (acct, name))
    return out


def _owner_id(viewer: Viewer, owner: str | None) -> str | None:
    if not owner:
        return None
    return resolve(viewer, owner, type_key="person", field="owner").id


def _rows(
    viewer: Viewer, stages: dict[int, Stage], pairs: list[tuple[str, int, dt.datetime]]
) -> list[dict[str, Any]]:
    """Deal rows for (record id, stage id, since), in that order."""
    ids = [p[0] for p in pairs]
    recs = {
        r.id: r
        for r in Record.objects.filter(pk__in=ids).only(
            "id", "name", "type_id", "fields", "private"
        )
    }
    accounts = _accounts(viewer, ids)
    owners = _names(viewer, {str(r.fields.get("owner") or "") for r in recs.values()})
    out = []
    for rid, stage_id, since in pairs:
        r = recs[rid]
        s = stages[stage_id]
        amount = r.fields.get("amount")
        acct = accounts.get(rid)
        owner = str(r.fields.get("owner") or "")
        out.append(
            {
                "id": rid,
                "name": r.name,
                "type": r.type_id,
                "stage": s.key,
                "category": s.category,
                "probability": round(s.probability * 100, 1),
                "since": since.isoformat(),
                "amount": amount,
                "currency": r.fields.get("currency"),
                "weighted": round(float(amount) * s.probability, 2) if amount is not None else None,
                "close": r.fields.get("close"),
                "source": r.fields.get("source"),
                "owner": {"id": owner, "name": owners[owner]} if owner in owners else None,
                "account": {"id": acct[0], "name": acct[1]} if acct else None,
                "private": r.private,
            }
        )
    return out


def positions(
    viewer: Viewer,
    *,
    pipeline: str | None = None,
    type_key: str = "deal",
    stage: str | None = None,
    owner: str | None = None,
    as_of: str | dt.date | None = None,
    limit: int = 500,
) -> dict[str, Any]:
    """The records of a pipeline ``viewer`` may see, at their stage now or as of a day,
    newest move first (``limit`` rows; ``total`` counts them all)."""
    if not 1 <= limit <= 10_000:
        raise ValidationError(f"limit: {limit} is outside 1..10000", field="limit")
    pipe = get_pipeline(pipeline, type_key=type_key)
    stages = {s.pk: s for s in pipe.stages.all()}
    wanted: Stage | None = None
    if stage:
        wanted = next((s for s in stages.values() if s.key == stage.strip().lower()), None)
        if wanted is None:
            have = ", ".join(s.key for s in sorted(stages.values(), key=lambda s: s.position))
            raise ValidationError(f"stage: {stage!r} is not a stage of {pipe.key} ({have})")
    owner_id = _owner_id(viewer, owner)
    live = Q(record__deleted_at=None) & visible_q(viewer, "record__")
    if owner_id:
        live &= Q(record__fields__owner=owner_id)
    if as_of is None:
        qs: QuerySet[Any] = Position.objects.filter(live, pipeline=pipe)
        if wanted is not None:
            qs = qs.filter(stage=wanted)
        total = qs.count()
        pairs = list(
            qs.order_by("-since", "record_id").values_list("record_id", "stage_id", "since")[:limit]
        )
    else:
        day = as_of_day(as_of)
        end = day_end(day)
        last = StageChange.objects.filter(live, pipeline=pipe, at__lt=end).filter(
            Q(left_at__isnull=True) | Q(left_at__gte=end)
        )
        if wanted is not None:
            last = last.filter(to_stage=wanted)
        found = sorted(
            last.values_list("record_id", "to_stage_id", "at"),
            key=lambda t: (-t[2].timestamp(), t[0]),
        )
        total = len(found)
        pairs = found[:limit]
    return {
        "pipeline": pipe.key,
        "as_of": as_of_day(as_of).isoformat() if as_of is not None else None,
        "total": total,
        "rows": _rows(viewer, stages, pairs),
    }


def history(viewer: Viewer, record: Record) -> list[dict[str, Any]]:
    """A visible record's stage moves, oldest first."""
    rows = (
        StageChange.objects.filter(record=record)
        .select_related("from_stage", "to_stage")
        .order_by("at", "id")
    )
    return [
        {
            "pipeline": c.pipeline_id,
            "from": c.from_stage.key if c.from_stage else None,
            "to": c.to_stage.key,
            "category": c.to_stage.category,
            "at": c.at.isoformat(),
            "by": c.by,
            "reason": c.reason,
            "note": c.note,
        }
        for c in rows
    ]


def deal_view(viewer: Viewer, ref: str) -> dict[str, Any]:
    """A deal (or any record in a pipeline): account, people with buying roles, stage,
    amount, weighted amount and its stage history, as ``viewer`` may see them."""
    record = resolve(viewer, ref, field="deal")
    pos = (
        Position.objects.filter(record=record)
        .select_related("stage")
        .order_by("pipeline_id")
        .first()
    )
    if pos is None:
        raise ValidationError(f"deal: {record.name} is not in a pipeline", field="deal")
    row = _rows(viewer, {pos.stage.pk: pos.stage}, [(record.id, pos.stage.pk, pos.since)])[0]
    contacts = (
        Relationship.objects.filter(type_id="on_deal", to_record=record, until__isnull=True)
        .filter(visible_q(viewer, "from_record__"), from_record__deleted_at=None)
        .order_by("from_record__name_key")
        .values_list("from_record_id", "from_record__name", "role")
    )
    row["pipeline"] = pos.pipeline_id
    row["people"] = [{"id": i, "name": n, "role": r} for i, n, r in contacts]
    row["history"] = history(viewer, record)
    row["fields"] = record.fields
    return row


def account_deals(viewer: Viewer, record: Record) -> list[dict[str, Any]]:
    """The deals ``viewer`` may see for an account (``deal_for``) or that a person is on
    (``on_deal``), open ones first."""
    ids = set(
        Relationship.objects.filter(type_id="deal_for", to_record=record).values_list(
            "from_record_id", flat=True
        )
    ) | set(
        Relationship.objects.filter(type_id="on_deal", from_record=record).values_list(
            "to_record_id", flat=True
        )
    )
    if not ids:
        return []
    qs = Position.objects.filter(
        visible_q(viewer, "record__"), record_id__in=ids, record__deleted_at=None
    ).select_related("stage")
    pos = list(qs)
    stages = {p.stage.pk: p.stage for p in pos}
    rows = _rows(viewer, stages, [(p.record_id, p.stage.pk, p.since) for p in pos])
    rows.sort(key=lambda r: (r["category"] != "open", r["since"]), reverse=False)
    return rows


def board(viewer: Viewer, *, pipeline: str | None = None) -> dict[str, Any]:
    """A pipeline as columns: each stage with its count, amount, weighted amount and its
    newest ``CARDS_PER_STAGE`` cards (records ``viewer`` may see)."""
    pipe = get_pipeline(pipeline)
    stages = list(pipe.stages.order_by("position"))
    base = Position.objects.filter(
        visible_q(viewer, "record__"), pipeline=pipe, record__deleted_at=None
    )
    columns = []
    for s in stages:
        qs = base.filter(stage=s)
        pairs = list(
            qs.order_by("-since", "record_id").values_list("record_id", "stage_id", "since")[
                :CARDS_PER_STAGE
            ]
        )
        cards = _rows(viewer, {s.pk: s}, pairs)
        amounts = [
            float(a)
            for a in qs.values_list("record__fields__amount", flat=True)
            if isinstance(a, int | float)
        ]
        columns.append(
            {
                **stage_view(s),
                "count": qs.count(),
                "amount": round(sum(amounts), 2),
                "weighted": round(sum(amounts) * s.probability, 2),
                "cards": cards,
            }
        )
    return {"pipeline": pipeline_view(pipe), "columns": columns}
