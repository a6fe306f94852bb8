"""Logging interactions: one transaction, idempotent on the external id."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction

from kith.core import clock
from kith.core.bulk import execute_many
from kith.core.errors import Conflict, NotFound, ValidationError
from kith.core.events import publish
from kith.core.ids import new_id
from kith.core.limits import MAX_PARTICIPANTS
from kith.core.parse import parse_datetime
from kith.core.services import record_change, record_field_changes
from kith.core.viewer import SYSTEM
from kith.interactions.models import Direction, Interaction, InteractionLink, Participant, Role
from kith.interactions.outcomes import check_outcome
from kith.records.models import Record
from kith.records.normalize import refuse_nul
from kith.records.selectors import resolve

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_ROLE_ALIASES = {"organizer": "organiser", "attendees": "attendee", "sender": "from"}
_SENTIMENT_WORDS = {"positive": 1.0, "neutral": 0.0, "negative": -1.0, "mixed": 0.0}


EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


def check_time(moment: dt.datetime, *, field: str = "at") -> dt.datetime:
    """An interaction's time: before 1900 is a typing mistake, refused (a future one is a
    planned interaction: upcoming on timelines, counted in no score until its day)."""
    if moment < EARLIEST:
        raise ValidationError(
            f"{field}: {moment.date().isoformat()} is before 1900; check the year", field=field
        )
    return moment


def normalize_role(role: str) -> str:
    text = (role or "").strip().lower()
    text = _ROLE_ALIASES.get(text, text)
    if text not in Role.values:
        raise ValidationError(
            f"role: {role!r} is not a participant role ({', '.join(Role.values)})", field="role"
        )
    return text


def check_participants(count: int) -> None:
    """Refuse more than ``MAX_PARTICIPANTS`` participants (the one limit of every interface)."""
    if count > MAX_PARTICIPANTS:
        raise ValidationError(
            f"with: {count} participants; an interaction has at most {MAX_PARTICIPANTS}",
            field="with",
        )


def default_role(kind: str, direction: str) -> str:
    """The role of a ``--with`` participant when none is given."""
    if kind in {"email", "message"}:
        return "from" if direction == "in" else "to"
    if kind == "note":
        return "mentioned"
    return "attendee"


def parse_sentiment(value: Any) -> float | None:
    """Accept -1..1 or the words positive / neutral / negative."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().lower() in _SENTIMENT_WORDS:
        return _SENTIMENT_WORDS[value.strip().lower()]
    try:
        num = float(value)
    except (TypeError, ValueError):
        raise ValidationError(
            f"sentiment: {value!r} is not a number from -1 to 1 or positive/neutral/negative",
            field="sentiment",
        ) from None
    if not -1.0 <= num <= 1.0:
        raise ValidationError(f"sentiment: {value!r} is outside -1..1", field="sentiment")
    return num


def _parse_score(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        num = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"score: {value!r} is not a number", field="score") from None
    if num != num or abs(num) > 1e9:
        raise ValidationError(f"score: {value!r} is out of range", field="score")
    return num


_MAX_EXTERNAL_ID = Interaction._meta.get_field("external_id").max_length or 500
_MAX_DURATION = 2**31 - 1  # what PostgreSQL's integer column holds


@transaction.atomic
def log_interaction(
    *,
    kind: str,
    participants: Sequence[tuple[str, str | None]] = (),
    links: Iterable[str] = (),
    at: str | dt.datetime | None = None,
    subject: str = "",
    body: str = "",
    direction: str | None = None,
    sentiment: Any = None,
    score: Any = None,
    outcome: str = "",
    external_id: str | None = None,
    duration: int | None = None,
    thread_id: str = "",
    source: str = "",
    meta: Mapping[str, Any] | None = None,
) -> tuple[Interaction, bool]:
    """Log an interaction with ``(ref, role)`` participants; returns it and whether it is new.

    Logging again with the same ``external_id`` changes nothing and returns the first one.
    """
    kind_key = (kind or "").strip().lower().replace("-", "_")
    if not _KIND.match(kind_key):
        raise ValidationError(f"kind: {kind!r} is not a valid interaction kind", field="kind")
    ext = (external_id or "").strip() or None
    if ext is not None and len(ext) > _MAX_EXTERNAL_ID:
        raise ValidationError(
            f"external_id: {ext[:40]!r}... is longer than {_MAX_EXTERNAL_ID} characters",
            field="external_id",
        )
    if ext is not None:
        existing = Interaction.objects.filter(external_id=ext).first()
        if existing is not None:
            return existing, False
    dir_value = (direction or "").strip().lower()
    if dir_value and dir_value not in Direction.values:
        raise ValidationError(
            f"direction: {direction!r} is not one of in, out, internal", field="direction"
        )
    moment = check_time(parse_datetime(at, field="at") or clock.now())
    for name, text in (
        ("subject", subject),
        ("body", body),
        ("outcome", outcome),
        ("thread_id", thread_id),
        ("source", source),
    ):
        refuse_nul(text or "", field=name)
    outcome = check_outcome(outcome)  # the outcome vocabulary (kith outcome list)
    if duration is not None and duration < 0:
        raise ValidationError("duration: must not be negative", field="duration")
    if duration is not None and duration > _MAX_DURATION:
        raise ValidationError(
            f"duration: {duration} seconds is more than {_MAX_DURATION} (about 68 years)",
            field="duration",
        )
    check_participants(len(participants))
    people: dict[tuple[str, str], None] = {}
    for ref, role in participants:
        record = resolve(SYSTEM, ref, field="with")
        people[(record.id, normalize_role(role) if role else default_role(kind_key, dir_value))] = (
            None
        )
    linked = {resolve(SYSTEM, ref, field="link").id: None for ref in links}
    if not people and not linked:
        raise ValidationError("with: an interaction needs at least one participant", field="with")
    interaction = Interaction(
        id=new_id("int"),
        kind=kind_key,
        at=moment,
        duration=duration,
        subject=(subject or "")[:500],
        body=body or "",
        direction=dir_value,
        sentiment=parse_sentiment(sentiment),
        score=_parse_score(score),
        outcome=(outcome or "")[:200],
        external_id=ext,
        thread_id=(thread_id or "")[:500],
        source=source or "",
        meta=dict(meta or {}),
    )
    try:
        with transaction.atomic():
            interaction.save(force_insert=True)
    except IntegrityError:
        # a concurrent writer logged the same external id first: theirs stands
        existing = Interaction.objects.filter(external_id=ext).first()
        if ext is not None and existing is not None:
            return existing, False
        raise
    Participant.objects.bulk_create(
        [
            Participant(interaction=interaction, record_id=rid, role=role, at=moment)
            for rid, role in people
        ]
    )
    InteractionLink.objects.bulk_create(
        [InteractionLink(interaction=interaction, record_id=rid, at=moment) for rid in linked]
    )
    record_change(
        entity_id=interaction.id,
        entity_kind="interaction",
        action="create",
        new={"kind": kind_key, "at": moment, "with": [r for r, _ in people]},
    )
    publish("interaction.logged", interaction_id=interaction.id)
    return interaction, True


INTERACTION_COLUMNS = (
    "id",
    "kind",
    "at",
    "duration",
    "subject",
    "body",
    "direction",
    "sentiment",
    "score",
    "outcome",
    "external_id",
    "thread_id",
    "source",
    "meta",
    "created_at",
)
PARTICIPANT_COLUMNS = ("interaction_id", "record_id", "role", "at")
LINK_COLUMNS = ("interaction_id", "record_id", "at")


def insert_interactions(
    rows: Sequence[tuple[Any, ...]],
    participants: Sequence[tuple[str, str, str, Any]],
    links: Sequence[tuple[str, str, Any]] = (),
) -> int:
    """Insert many interactions with their participants and links at once.

    ``rows`` are tuples in ``INTERACTION_COLUMNS`` order (``meta`` as JSON text, times in
    the database's form: ``kith.core.bulk.time_adapter``); participants are
    ``(interaction_id, record_id, role, at)``, links ``(interaction_id, record_id, at)``.
    """
    execute_many(Interaction, INTERACTION_COLUMNS, rows)
    execute_many(Participant, PARTICIPANT_COLUMNS, participants)
    execute_many(InteractionLink, LINK_COLUMNS, links)
    return len(rows)


# -- correcting an interaction: edit, delete (soft, restorable), restore ----------------------

EDITABLE = ("kind", "at", "subject", "body", "direction", "sentiment", "score", "outcome")


def _snapshot(i: Interaction) -> dict[str, Any]:
    return {name: getattr(i, name) for name in EDITABLE}


def _locked(interaction_id: str, *, deleted: bool | None = False) -> Interaction:
    found = Interaction.objects.select_for_update().filter(pk=interaction_id[:40]).first()
    if found is None:
        raise NotFound(f"id: no interaction {interaction_id[:40]!r}", field="id")
    if deleted is False and found.deleted_at is not None:
        raise Conflict(f"id: interaction {found.id} is deleted; restore it first", field="id")
    if deleted is True and found.deleted_at is None:
        raise Conflict(f"id: interaction {found.id} is not deleted", field="id")
    return found


def _records_of(i: Interaction) -> list[str]:
    if i.trashed:
        return sorted({r for r, _ in i.trashed["participants"]} | set(i.trashed["links"]))
    people = Participant.objects.filter(interaction=i).values_list("record_id", flat=True)
    links = InteractionLink.objects.filter(interaction=i).values_list("record_id", flat=True)
    return sorted(set(people) | set(links))


def _changed(i: Interaction, records: list[str], *, days: Iterable[dt.datetime]) -> None:
    """Tell scores, timelines and caches: these records' interactions changed on these days."""
    earliest = min(d.astimezone(dt.UTC).date() for d in days)
    publish(
        "interaction.changed",
        interaction_id=i.id,
        record_ids=records,
        since=earliest.isoformat(),
    )


@transaction.atomic
def edit_interaction(
    *, interaction_id: str, values: Mapping[str, Any], expected_version: int | None = None
) -> Interaction:
    """Correct an interaction's fields (``kind``, ``at``, ``subject``, ``body``,
    ``direction``, ``sentiment``, ``score``, ``outcome``); history keeps the old values,
    and scores and timelines follow (a moved ``at`` moves it on every timeline)."""
    if not values:
        raise ValidationError("set: nothing to change", field="set")
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise ValidationError(
            f"set: {unknown[0]!r} cannot be changed; choose from {', '.join(EDITABLE)}",
            field=unknown[0],
        )
    i = _locked(interaction_id)
    current = i.version or 0
    if expected_version is not None and current != expected_version:
        raise Conflict(
            f"version: {i.id} is at version {current}, not {expected_version}; reload it and "
            "try again",
            field="version",
        )
    before = _snapshot(i)
    for name, raw in values.items():
        text = "" if raw is None else raw
        if name == "kind":
            kind_key = str(text).strip().lower().replace("-", "_")
            if not _KIND.match(kind_key):
                raise ValidationError(f"kind: {text!r} is not a valid interaction kind", field=name)
            i.kind = kind_key
        elif name == "at":
            moment = parse_datetime(text, field="at")
            if moment is None:
                raise ValidationError("at: give a time (ISO 8601)", field="at")
            i.at = check_time(moment)
        elif name == "direction":
            value = str(text).strip().lower()
            if value and value not in Direction.values:
                raise ValidationError(
                    f"direction: {text!r} is not one of in, out, internal", field=name
                )
            i.direction = value
        elif name == "sentiment":
            i.sentiment = parse_sentiment(text if text != "" else None)
        elif name == "score":
            i.score = _parse_score(text if text != "" else None)
        else:
            refuse_nul(str(text), field=name)
            limit = {"subject": 500, "outcome": 200}.get(name)
            if limit is not None and len(str(text)) > limit:
                raise ValidationError(f"{name}: longer than {limit} characters", field=name)
            setattr(i, name, str(text))
    after = _snapshot(i)
    if after == before:
        return i
    i.version = current + 1
    i.save(update_fields=[*EDITABLE, "version"])
    if after["at"] != before["at"]:
        Participant.objects.filter(interaction=i).update(at=i.at)
        InteractionLink.objects.filter(interaction=i).update(at=i.at)
    record_field_changes(entity_id=i.id, entity_kind="interaction", before=before, after=after)
    _changed(i, _records_of(i), days=[before["at"], after["at"]])
    return i


@transaction.atomic
def delete_interaction(*, interaction_id: str) -> Interaction:
    """Delete an interaction, restorably: it leaves every timeline, score and count (its
    participants and links are kept on it, to be put back by :func:`restore_interaction`)."""
    i = _locked(interaction_id)
    people = list(Participant.objects.filter(interaction=i).values_list("record_id", "role"))
    links = list(InteractionLink.objects.filter(interaction=i).values_list("record_id", flat=True))
    i.trashed = {"participants": [list(p) for p in people], "links": links}
    i.deleted_at = clock.now()
    i.version = (i.version or 0) + 1
    i.save(update_fields=["trashed", "deleted_at", "version"])
    Participant.objects.filter(interaction=i).delete()
    InteractionLink.objects.filter(interaction=i).delete()
    record_change(entity_id=i.id, entity_kind="interaction", action="delete", old=_snapshot(i))
    _changed(i, _records_of(i), days=[i.at])
    return i


def _live_id(record_id: str) -> str | None:
    """The record now standing for ``record_id`` (a merge's keeper); None if it is gone."""
    seen: set[str] = set()
    current: str | None = record_id
    while current is not None and current not in seen:
        seen.add(current)
        row = Record.objects.filter(pk=current).values_list("merged_into", flat=True).first()
        if row is None:
            return current if Record.objects.filter(pk=current).exists() else None
        current = row
    return current


@transaction.atomic
def restore_interaction(*, interaction_id: str) -> Interaction:
    """Put a deleted interaction back on every timeline and score, with its participants
    and links (a record merged meanwhile is replaced by the one it was merged into)."""
    i = _locked(interaction_id, deleted=True)
    trashed = i.trashed or {"participants": [], "links": []}
    people = {(rid, role) for r, role in trashed["participants"] if (rid := _live_id(r))}
    links = {rid for r in trashed["links"] if (rid := _live_id(r))}
    Participant.objects.bulk_create(
        [Participant(interaction=i, record_id=r, role=role, at=i.at) for r, role in people]
    )
    InteractionLink.objects.bulk_create(
        [InteractionLink(interaction=i, record_id=r, at=i.at) for r in links]
    )
    i.trashed, i.deleted_at = None, None
    i.version = (i.version or 0) + 1
    i.save(update_fields=["trashed", "deleted_at", "version"])
    record_change(entity_id=i.id, entity_kind="interaction", action="restore", new=_snapshot(i))
    _changed(i, sorted({r for r, _ in people} | links), days=[i.at])
    return i


def set_derived_sentiments(values: Mapping[str, tuple[float | None, float]]) -> list[str]:
    """Store sentiments an analyser derived: ``{id: (expected current value, new value)}``.

    A row changes only while its sentiment still equals the expected value (``None``: not
    set), so a value a person set meanwhile is never overwritten. One statement per row
    through executemany; returns the ids that now hold the new value. Callers tell scores
    (``interaction.changed`` or ``bulk.loaded``): no history is written (a derived value).
    """
    if not values:
        return []
    table = connection.ops.quote_name(Interaction._meta.db_table)
    unset = [(new, iid) for iid, (old, new) in values.items() if old is None]
    was = [(new, iid, old) for iid, (old, new) in values.items() if old is not None]
    with connection.cursor() as cur:
        if unset:
            cur.executemany(
                f"UPDATE {table} SET sentiment = %s WHERE id = %s AND sentiment IS NULL", unset
            )
        if was:
            cur.executemany(
                f"UPDATE {table} SET sentiment = %s WHERE id = %s AND sentiment = %s", was
            )
    now = dict(Interaction.objects.filter(pk__in=list(values)).values_list("id", "sentiment"))
    return sorted(i for i, (_, new) in values.items() if now.get(i) == new)
