"""Writes: pipelines, deals and stage moves.

Every stage move is stored (``StageChange``: from, to, when, who, reason, note) with the
record's ``Position`` in the same transaction, recorded in the record's history, audited
and published as ``stage.moved`` (``record_id``, ``pipeline``, ``from_stage``,
``to_stage``, ``change_id``). A record whose type has the fields ``stage``, ``status``,
``closed_on`` and ``lost_reason`` (deals do) gets them set through
``kith.records.services.update_record``, so lists, search and conditions read them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction

from kith.core import clock
from kith.core.context import current_actor
from kith.core.errors import NotFound, ValidationError
from kith.core.events import publish
from kith.core.parse import parse_date, parse_datetime
from kith.core.services import audit, record_change
from kith.core.viewer import Viewer
from kith.pipelines.dashboards import SHARED, STARTERS, check_widgets
from kith.pipelines.models import (
    Dashboard,
    LostReason,
    Pipeline,
    Position,
    Stage,
    StageChange,
)
from kith.plans.conf import buying_roles
from kith.plans.selectors import member_record
from kith.records.models import FieldDef, Record
from kith.records.selectors import get_type, resolve
from kith.records.services import add_record, update_record
from kith.relationships.services import relate

CATEGORIES = ("open", "won", "lost")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# the pipeline a first deal gets when none exists for deals
DEFAULT_DEAL_STAGES = [
    ("lead", 0.1, "open"),
    ("qualified", 0.25, "open"),
    ("proposal", 0.5, "open"),
    ("negotiation", 0.75, "open"),
    ("won", 1.0, "won"),
    ("lost", 0.0, "lost"),
]
DEFAULT_LOST_REASONS = ["price", "competitor", "no_decision", "timing", "fit"]


def _slug(value: str, *, field: str) -> str:
    text = (value or "").strip().lower().replace(" ", "_")
    if not SLUG.match(text):
        raise ValidationError(
            f"{field}: {value!r} is not a key (letters, digits, _ or -, up to 40)", field=field
        )
    return text


def _text(value: str, *, field: str, limit: int = 200) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"{field}: is required", field=field)
    if len(text) > limit or "\x00" in text:
        raise ValidationError(f"{field}: longer than {limit} characters", field=field)
    return text


@transaction.atomic
def add_pipeline(
    *,
    type_key: str,
    key: str,
    stages: Sequence[tuple[str, float, str]],
    label: str | None = None,
    reasons: Iterable[str] = (),
    lost_reason_required: bool = False,
) -> Pipeline:
    """A pipeline for records of ``type_key``: ``stages`` in order as (key, probability
    0..1, category open|won|lost); at least one open, one won and one lost stage."""
    rtype = get_type(type_key)
    pkey = _slug(key, field="key")
    if Pipeline.objects.filter(pk=pkey).exists():
        raise ValidationError(f"key: a pipeline {pkey!r} exists already", field="key")
    seen: set[str] = set()
    rows: list[Stage] = []
    for i, (skey, prob, category) in enumerate(stages):
        s = _slug(skey, field="stage")
        if s in seen:
            raise ValidationError(f"stage: {s!r} is listed twice", field="stage")
        seen.add(s)
        if category not in CATEGORIES:
            raise ValidationError(
                f"stage: {s!r} category {category!r} is not open, won or lost", field="stage"
            )
        if not 0.0 <= float(prob) <= 1.0:
            raise ValidationError(
                f"stage: {s!r} probability {prob} is outside 0..100%", field="stage"
            )
        rows.append(
            Stage(
                key=s,
                label=s.replace("_", " ").capitalize(),
                position=i,
                probability=float(prob),
                category=category,
            )
        )
    for category in CATEGORIES:
        if not any(r.category == category for r in rows):
            option = {"open": "--stage", "won": "--won", "lost": "--lost"}[category]
            raise ValidationError(
                f"{option.lstrip('-')}: a pipeline needs at least one {category} stage",
                field=option.lstrip("-"),
            )
    pipeline = Pipeline.objects.create(
        key=pkey,
        label=(label or pkey.replace("_", " ").capitalize())[:200],
        record_type=rtype,
        lost_reason_required=lost_reason_required,
    )
    for r in rows:
        r.pipeline = pipeline
    Stage.objects.bulk_create(rows)
    keys = sorted({_slug(r, field="reason") for r in reasons})
    LostReason.objects.bulk_create(
        LostReason(pipeline=pipeline, key=k, label=k.replace("_", " ")) for k in keys
    )
    audit(
        "pipeline.created",
        target=pkey,
        detail={"type": rtype.key, "stages": [r.key for r in rows], "reasons": keys},
    )
    return pipeline


def _pipeline_for(type_key: str, key: str | None, *, field: str = "pipeline") -> Pipeline:
    if key:
        p = Pipeline.objects.filter(pk=key.strip().lower()).first()
        if p is None:
            raise NotFound(f"{field}: no pipeline {key!r}", field=field)
        if p.record_type_id != type_key:
            raise ValidationError(
                f"{field}: {p.key!r} is a pipeline for {p.record_type_id}, not {type_key}",
                field=field,
            )
        return p
    p = Pipeline.objects.filter(record_type_id=type_key).order_by("created_at", "key").first()
    if p is None:
        raise NotFound(
            f"{field}: no pipeline for {type_key}; add one with kith pipeline add {type_key} KEY",
            field=field,
        )
    return p


def _deal_pipeline(key: str | None) -> Pipeline:
    """The deals pipeline asked for; the first ever deal creates ``sales`` by default."""
    if key or Pipeline.objects.filter(record_type_id="deal").exists():
        return _pipeline_for("deal", key)
    return add_pipeline(
        type_key="deal",
        key="sales",
        label="Sales",
        stages=DEFAULT_DEAL_STAGES,
        reasons=DEFAULT_LOST_REASONS,
    )


def _stage(pipeline: Pipeline, key: str, *, field: str = "stage") -> Stage:
    s = Stage.objects.filter(pipeline=pipeline, key=(key or "").strip().lower()).first()
    if s is None:
        have = ", ".join(pipeline.stages.values_list("key", flat=True))
        raise ValidationError(
            f"{field}: {key!r} is not a stage of {pipeline.key} ({have})", field=field
        )
    return s


def _moment(at: str | dt.datetime | dt.date | None, *, field: str = "at") -> dt.datetime:
    now = clock.now()
    if at is None or at == "":
        return now
    if isinstance(at, str) and len(at.strip()) == 10:  # a day: its noon, UTC
        at = parse_date(at, field=field)
    if isinstance(at, dt.date) and not isinstance(at, dt.datetime):
        moment = clock.as_moment(at) + dt.timedelta(hours=12)
    else:
        parsed = parse_datetime(at, field=field)
        assert parsed is not None
        moment = parsed
    if moment > now:
        raise ValidationError(f"{field}: {moment.isoformat()} is in the future", field=field)
    return moment


def _mirror(record: Record, values: dict[str, Any]) -> None:
    """Set the deal-like fields the record's type has (stage, status, ...)."""
    defs = FieldDef.objects.filter(record_type_id=record.type_id)
    have = set(defs.values_list("name", flat=True))
    wanted = {k: v for k, v in values.items() if k in have and record.fields.get(k) != v}
    if wanted:
        update_record(ref=record.id, values=wanted)


def _status(stage: Stage) -> str:
    return stage.category


def enter(
    *,
    record: Record,
    pipeline: Pipeline,
    stage: str | None = None,
    at: dt.datetime | None = None,
    note: str = "",
) -> StageChange:
    """Put ``record`` into ``pipeline`` at ``stage`` (default the first stage), at ``at``."""
    if record.type_id != pipeline.record_type_id:
        raise ValidationError(
            f"pipeline: {pipeline.key} is for {pipeline.record_type_id}, "
            f"not {record.type_id} records",
            field="pipeline",
        )
    if Position.objects.filter(record=record, pipeline=pipeline).exists():
        raise ValidationError(f"record: {record.id} is in {pipeline.key} already", field="record")
    target = _stage(pipeline, stage) if stage else pipeline.stages.order_by("position").first()
    assert target is not None
    moment = at or clock.now()
    change = StageChange.objects.create(
        record=record,
        pipeline=pipeline,
        from_stage=None,
        to_stage=target,
        at=moment,
        by=current_actor(),
        note=note[:1000],
    )
    Position.objects.create(record=record, pipeline=pipeline, stage=target, since=moment)
    _after_move(record, pipeline, None, target, change, "")
    return change


def _after_move(
    record: Record,
    pipeline: Pipeline,
    old: Stage | None,
    new: Stage,
    change: StageChange,
    reason: str,
) -> None:
    values: dict[str, Any] = {"pipeline": pipeline.key, "stage": new.key, "status": _status(new)}
    values["closed_on"] = change.at.date().isoformat() if new.category != "open" else None
    values["lost_reason"] = reason if new.category == "lost" else None
    _mirror(record, values)
    record_change(
        entity_id=record.id,
        entity_kind="record",
        action="stage",
        field=pipeline.key,
        old=old.key if old else None,
        new=new.key,
        note=reason,
        at=change.at,
    )
    audit(
        "stage.moved",
        target=record.id,
        detail={"pipeline": pipeline.key, "from": old.key if old else None, "to": new.key},
    )
    publish(
        "stage.moved",
        record_id=record.id,
        pipeline=pipeline.key,
        from_stage=old.key if old else None,
        to_stage=new.key,
        change_id=change.pk,
    )


@transaction.atomic
def move(
    *,
    viewer: Viewer,
    ref: str,
    stage: str,
    pipeline: str | None = None,
    reason: str | None = None,
    note: str = "",
    at: str | dt.datetime | dt.date | None = None,
) -> StageChange:
    """Move a record ``viewer`` may see to ``stage`` of its pipeline; a lost stage takes a
    lost reason (required when the pipeline says so, one of its reasons when it has any)."""
    record = resolve(viewer, ref, field="deal")
    pos_q = Position.objects.select_for_update().filter(record=record)
    if pipeline:
        pos_q = pos_q.filter(pipeline_id=pipeline.strip().lower())
    positions = list(pos_q.select_related("pipeline", "stage"))
    if not positions:
        where = f"pipeline {pipeline}" if pipeline else "any pipeline"
        raise ValidationError(f"deal: {record.name} is not in {where}", field="deal")
    if len(positions) > 1:
        keys = ", ".join(p.pipeline_id for p in positions)
        raise ValidationError(f"pipeline: {record.name} is in {keys}; name one", field="pipeline")
    pos = positions[0]
    pipe = pos.pipeline
    target = _stage(pipe, stage)
    if target.pk == pos.stage_id:
        raise ValidationError(f"stage: {record.name} is at {target.key} already", field="stage")
    moment = _moment(at)
    if moment < pos.since:
        raise ValidationError(
            f"at: {moment.isoformat()} is before the last move ({pos.since.isoformat()})",
            field="at",
        )
    why = (reason or "").strip()
    if target.category == "lost":
        reasons = list(pipe.reasons.values_list("key", flat=True))
        if not why and pipe.lost_reason_required:
            raise ValidationError(
                f"reason: {pipe.key} needs a lost reason ({', '.join(reasons) or 'any text'})",
                field="reason",
            )
        if why and reasons:
            why = why.lower().replace(" ", "_")
            if why not in reasons:
                raise ValidationError(
                    f"reason: {reason!r} is not one of {', '.join(reasons)}", field="reason"
                )
    if len(why) > 200:
        raise ValidationError("reason: longer than 200 characters", field="reason")
    old = pos.stage
    prev = (
        StageChange.objects.select_for_update()
        .filter(record=record, pipeline=pipe, left_at__isnull=True)
        .order_by("-at", "-id")
        .first()
    )
    if prev is not None:
        prev.left_at = moment
        prev.left_to = target
        prev.left_reason = why
        prev.dwell_days = int((moment - prev.at).total_seconds() // 86400)
        prev.save(update_fields=["left_at", "left_to", "left_reason", "dwell_days"])
    change = StageChange.objects.create(
        record=record,
        pipeline=pipe,
        from_stage=old,
        to_stage=target,
        at=moment,
        by=current_actor(),
        reason=why,
        note=(note or "")[:1000],
    )
    pos.stage = target
    pos.since = moment
    pos.save(update_fields=["stage", "since"])
    _after_move(record, pipe, old, target, change, why)
    return change


def _closing(viewer: Viewer, ref: str, category: str) -> tuple[Record, Stage]:
    record = resolve(viewer, ref, field="deal")
    pos = Position.objects.filter(record=record).select_related("pipeline").first()
    if pos is None:
        raise ValidationError(f"deal: {record.name} is not in a pipeline", field="deal")
    target = pos.pipeline.stages.filter(category=category).order_by("position").first()
    assert target is not None  # a pipeline has a won and a lost stage
    return record, target


@transaction.atomic
def win(
    *,
    viewer: Viewer,
    ref: str,
    reason: str | None = None,
    at: str | dt.datetime | dt.date | None = None,
) -> StageChange:
    """Move a deal to its pipeline's (first) won stage."""
    record, target = _closing(viewer, ref, "won")
    return move(viewer=viewer, ref=record.id, stage=target.key, reason=reason, at=at)


@transaction.atomic
def lose(
    *,
    viewer: Viewer,
    ref: str,
    reason: str | None = None,
    at: str | dt.datetime | dt.date | None = None,
) -> StageChange:
    """Move a deal to its pipeline's (first) lost stage, for ``reason``."""
    record, target = _closing(viewer, ref, "lost")
    return move(viewer=viewer, ref=record.id, stage=target.key, reason=reason, at=at)


def _currency(value: str | None) -> str:
    text = (value or os.environ.get("KITH_CURRENCY") or "EUR").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise ValidationError(f"currency: {value!r} is not a 3-letter code", field="currency")
    return text


@transaction.atomic
def add_deal(
    *,
    viewer: Viewer,
    account: str,
    name: str,
    amount: float,
    currency: str | None = None,
    close: str | dt.date | None = None,
    owner: str | None = None,
    contacts: Iterable[tuple[str, str]] = (),
    source: str | None = None,
    stage: str | None = None,
    pipeline: str | None = None,
    at: str | dt.datetime | dt.date | None = None,
) -> Record:
    """A deal for an account ``viewer`` may see, with its people and their buying roles,
    entered into its pipeline (``sales`` is made for the first deal when none exists)."""
    acct = resolve(viewer, account, field="account")
    if acct.type_id not in ("organization", "person"):
        raise ValidationError(
            f"account: {acct.name!r} is a {acct.type_id}, not an organisation or person",
            field="account",
        )
    try:
        value = float(amount)
    except (TypeError, ValueError):
        raise ValidationError(f"amount: {amount!r} is not a number", field="amount") from None
    if not 0 <= value < 1e15 or value != value:
        raise ValidationError(f"amount: {amount!r} is outside 0..10^15", field="amount")
    fields: dict[str, Any] = {"amount": value, "currency": _currency(currency)}
    day = parse_date(close, field="close")
    if day is not None:
        fields["close"] = day.isoformat()
    if owner:
        fields["owner"] = member_record(viewer, owner, field="owner").id
    if source:
        fields["source"] = _text(source, field="source", limit=100).lower()
    roles = buying_roles()
    people: list[tuple[Record, str]] = []
    for ref, role in contacts:
        person = resolve(viewer, ref, type_key="person", field="contact")
        r = (role or "").strip().lower().replace(" ", "_").replace("-", "_")
        if r and r not in roles:
            raise ValidationError(
                f"contact: role {role!r} is not one of {', '.join(roles)}", field="contact"
            )
        people.append((person, r))
    pipe = _deal_pipeline(pipeline)
    moment = _moment(at)
    deal = add_record(type_key="deal", name=_text(name, field="name"), fields=fields, by=viewer)
    relate(a=deal.id, type_name="deal_for", b=acct.id, source="pipelines", since=moment.date())
    for person, r in people:
        relate(a=person.id, type_name="on_deal", b=deal.id, role=r, source="pipelines",
               since=moment.date(), if_exists="return")  # fmt: skip
    enter(record=deal, pipeline=pipe, stage=stage, at=moment)
    audit("deal.created", target=deal.id, detail={"account": acct.id, "amount": value})
    return deal


@transaction.atomic
def enter_record(
    *,
    viewer: Viewer,
    ref: str,
    pipeline: str,
    stage: str | None = None,
    at: str | dt.datetime | dt.date | None = None,
) -> StageChange:
    """Put any record ``viewer`` may see into a pipeline of its type (a lead lifecycle for
    people or organisations, tickets ...)."""
    record = resolve(viewer, ref, field="record")
    pipe = _pipeline_for(record.type_id, pipeline)
    return enter(record=record, pipeline=pipe, stage=stage, at=_moment(at))


@transaction.atomic
def save_dashboard(
    *,
    key: str,
    name: str | None = None,
    widgets: Any = None,
    starter: str | None = None,
    owner: str = "",
    shared: str = "everyone",
    replace: bool = False,
) -> Dashboard:
    """Save a dashboard (its widgets checked one by one), or a starter one (``sales``,
    ``support``, ``marketing``: outcomes, not activity counts)."""
    dkey = _slug(key, field="key")
    if starter:
        if starter not in STARTERS:
            raise ValidationError(
                f"starter: {starter!r} is not one of {', '.join(STARTERS)}", field="starter"
            )
        widgets = widgets or STARTERS[starter]["widgets"]
        name = name or str(STARTERS[starter]["name"])
    checked = check_widgets(widgets)
    if shared not in SHARED:
        raise ValidationError(
            f"shared: {shared!r} is not one of {', '.join(SHARED)}", field="shared"
        )
    found = Dashboard.objects.filter(pk=dkey).first()
    if found is not None and not replace:
        raise ValidationError(f"key: a dashboard {dkey!r} exists already", field="key")
    d = found or Dashboard(key=dkey)
    d.name = _text(name or dkey, field="name")
    d.widgets = checked
    d.owner = (owner or "").strip().lower()
    d.shared = shared
    d.updated_at = clock.now()
    d.save()
    audit("dashboard.saved", target=dkey, detail={"widgets": len(checked), "shared": shared})
    return d
