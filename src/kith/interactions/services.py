"""Logging interactions: one transaction, idempotent on the external id."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction

from kith.core import clock
from kith.core.bulk import execute_many
from kith.core.errors import ValidationError
from kith.core.events import publish
from kith.core.ids import new_id
from kith.core.limits import MAX_PARTICIPANTS
from kith.core.parse import parse_datetime
from kith.core.services import record_change
from kith.core.viewer import SYSTEM
from kith.interactions.models import Direction, Interaction, InteractionLink, Participant, Role
from kith.records.normalize import refuse_nul
from kith.records.selectors import resolve

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_ROLE_ALIASES = {"organizer": "organiser", "attendees": "attendee", "sender": "from"}
_SENTIMENT_WORDS = {"positive": 1.0, "neutral": 0.0, "negative": -1.0, "mixed": 0.0}


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
    moment = parse_datetime(at, field="at") or clock.now()
    for name, text in (
        ("subject", subject),
        ("body", body),
        ("outcome", outcome),
        ("thread_id", thread_id),
        ("source", source),
    ):
        refuse_nul(text or "", field=name)
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
