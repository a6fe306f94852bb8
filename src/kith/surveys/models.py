"""Surveys, their invites (one per person asked), and the provenance of sentiment values.

A response is an interaction of kind ``survey`` (``kith.interactions``); these tables hold
what is the survey's own: its definition, the time series of invites, and where each
interaction's sentiment came from.
"""

from __future__ import annotations

from django.db import models

from kith.core import clock
from kith.records.models import Record


class Kind(models.TextChoices):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"
    CUSTOM = "custom"


class Survey(models.Model):
    """What is asked, of whom, when, how often, and how the answers are grouped."""

    id = models.CharField(primary_key=True, max_length=40)
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    question = models.CharField(max_length=500)
    followup = models.CharField(max_length=500, blank=True, default="")
    scale_min = models.IntegerField()
    scale_max = models.IntegerField()
    throttle_days = models.PositiveIntegerField(default=90)
    per_account_quarter = models.PositiveIntegerField(null=True, blank=True)
    audience = models.JSONField(default=dict, blank=True)  # {"view": NAME} | {"condition": {}}
    trigger = models.JSONField(default=dict, blank=True)  # {"on": "manual"|"schedule"|"rule"}
    remind_after_days = models.PositiveIntegerField(null=True, blank=True, default=3)
    expire_after_days = models.PositiveIntegerField(default=14)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class InviteStatus(models.TextChoices):
    QUEUED = "queued"
    SENT = "sent"
    RESPONDED = "responded"
    EXPIRED = "expired"
    BOUNCED = "bounced"
    SUPPRESSED = "suppressed"


class Invite(models.Model):
    """One person asked one survey once: a single-use link (kept only as its SHA-256)."""

    id = models.CharField(primary_key=True, max_length=40)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invites")
    person = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="survey_invites")
    account = models.ForeignKey(
        Record, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.CharField(max_length=254, blank=True, default="")
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    status = models.CharField(max_length=12, choices=InviteStatus.choices)
    reason = models.CharField(max_length=200, blank=True, default="")
    cause = models.CharField(max_length=40, blank=True, default="")  # an interaction id
    created_at = models.DateTimeField(default=clock.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    response = models.CharField(max_length=40, blank=True, default="")  # an interaction id
    attempts = models.IntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["person", "created_at"], name="invite_person_at"),
            models.Index(fields=["account", "created_at"], name="invite_account_at"),
            models.Index(fields=["survey", "status"], name="invite_survey_status"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} -> {self.person_id}: {self.status}"


class SentimentSource(models.TextChoices):
    MANUAL = "manual"
    LEXICON = "lexicon"
    IMPORT = "import"


class SentimentMark(models.Model):
    """Where an interaction's sentiment came from, with the phrases that drove it.

    An interaction with a sentiment and no mark had it set by a person (manual).
    """

    interaction_id = models.CharField(primary_key=True, max_length=40)
    source = models.CharField(max_length=10, choices=SentimentSource.choices)
    value = models.FloatField(null=True, blank=True)  # what it set (None: left unscored)
    analyser = models.CharField(max_length=40, blank=True, default="")
    evidence = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=10, blank=True, default="")
    scored_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.interaction_id} {self.source}"


class OptOut(models.Model):
    """A person who asked not to be surveyed again (suppressed with the reason "opted out")."""

    person = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="survey_opt_out")
    source = models.CharField(max_length=20, default="link")
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.person_id} opted out"
