"""Interactions (emails, calls, meetings, ...) with participants and linked records."""

from __future__ import annotations

from django.db import models

from kith.core import clock
from kith.core.limits import MAX_PARTICIPANTS as MAX_PARTICIPANTS  # the limit of every interface
from kith.records.models import Record

BUILTIN_KINDS = ["email", "call", "meeting", "message", "note", "ticket", "purchase", "survey"]


class Role(models.TextChoices):
    FROM = "from"
    TO = "to"
    CC = "cc"
    BCC = "bcc"
    ATTENDEE = "attendee"
    ORGANISER = "organiser"
    MENTIONED = "mentioned"


class Direction(models.TextChoices):
    IN = "in"
    OUT = "out"
    INTERNAL = "internal"


class Interaction(models.Model):
    """One event at one time; it shows on the timeline of everyone and everything it touches."""

    id = models.CharField(primary_key=True, max_length=40)
    kind = models.SlugField(max_length=40)
    at = models.DateTimeField()
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="seconds")
    subject = models.CharField(max_length=500, blank=True, default="")
    body = models.TextField(blank=True, default="")
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True, default="")
    sentiment = models.FloatField(null=True, blank=True, help_text="-1 (negative) to 1 (positive)")
    score = models.FloatField(null=True, blank=True, help_text="e.g. NPS 0-10 or CSAT 1-5")
    outcome = models.CharField(max_length=200, blank=True, default="")
    external_id = models.CharField(max_length=500, null=True, blank=True, unique=True)
    thread_id = models.CharField(max_length=500, blank=True, default="")
    source = models.CharField(max_length=200, blank=True, default="")
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    version = models.PositiveIntegerField(null=True, blank=True, help_text="edits (none: 0)")
    deleted_at = models.DateTimeField(null=True, blank=True)
    # a deleted interaction's participants and links, taken off every timeline and score
    # until it is restored: {"participants": [[record_id, role], ...], "links": [...]}
    trashed = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["at"], name="interaction_at"),
            models.Index(fields=["thread_id"], name="interaction_thread"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d} {self.subject}"


class Participant(models.Model):
    """A record taking part in an interaction in a role; ``at`` copies the interaction's."""

    interaction = models.ForeignKey(
        Interaction, on_delete=models.CASCADE, related_name="participants"
    )
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="participations")
    role = models.CharField(max_length=12, choices=Role.choices)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["record", "at"], name="participant_record_at")]
        constraints = [
            models.UniqueConstraint(
                fields=["interaction", "record", "role"], name="participant_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_id} {self.role} {self.interaction_id}"


class InteractionLink(models.Model):
    """A record an interaction is about (an organisation, a deal, a project)."""

    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="links")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="linked_interactions")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["record", "at"], name="link_record_at")]
        constraints = [
            models.UniqueConstraint(fields=["interaction", "record"], name="link_unique")
        ]

    def __str__(self) -> str:
        return f"{self.record_id} ~ {self.interaction_id}"


class OutcomeType(models.Model):
    """A named outcome an interaction can have (its ``outcome`` equal to the key), with a
    polarity; a value event (go-live, ROI reported, ...) is an outcome goals can measure."""

    key = models.SlugField(primary_key=True, max_length=40)
    label = models.CharField(max_length=100)
    polarity = models.CharField(max_length=8, default="neutral")  # positive|neutral|negative
    value_event = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key
