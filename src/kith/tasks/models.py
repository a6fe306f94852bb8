"""Tasks (ours and the customer's commitments) and keep-in-touch cadences."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from kith.core import clock
from kith.records.models import Record

NO_DUE = dt.date(9999, 12, 31)  # the sort key of a task without a due date: after every date


class Status(models.TextChoices):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Party(models.TextChoices):
    OURS = "ours"
    THEIRS = "theirs"  # a commitment the customer made


class Source(models.TextChoices):
    MANUAL = "manual"
    RULE = "rule"
    CADENCE = "cadence"
    PLAN = "plan"
    SURVEY = "survey"


class Task(models.Model):
    """Something to do (or that the other side promised), due on a day, about records."""

    id = models.CharField(primary_key=True, max_length=40)
    title = models.CharField(max_length=300)
    notes = models.TextField(blank=True, default="")
    due = models.DateField(null=True, blank=True)  # the owner's day
    due_time = models.TimeField(null=True, blank=True)  # in the owner's zone
    due_key = models.DateField(default=NO_DUE)  # due, or NO_DUE: the list order
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kith_tasks",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(default=2)  # 1 low, 2 normal, 3 high, 4 urgent
    party = models.CharField(max_length=6, choices=Party.choices, default=Party.OURS)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    source_ref = models.CharField(max_length=200, blank=True, default="")
    dedupe_key = models.CharField(max_length=200, blank=True, default="")
    repeat = models.CharField(max_length=500, blank=True, default="")  # an RRULE
    repeat_start = models.DateField(null=True, blank=True)  # the series' first due day
    complete_on = models.JSONField(null=True, blank=True, default=None)  # a condition
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.CharField(max_length=254, blank=True, default="")
    evidence = models.CharField(max_length=40, blank=True, default="")  # an interaction id
    previous = models.CharField(max_length=40, blank=True, default="")  # repeats: the one before
    created_by = models.CharField(max_length=254, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["status", "due_key"], name="task_status_due"),
            models.Index(fields=["owner", "status", "due_key"], name="task_owner_due"),
            models.Index(fields=["source", "status"], name="task_source"),
        ]
        constraints = [
            # a rule or cadence creating a task already open for the same purpose updates it
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(status="open") & ~Q(dedupe_key=""),
                name="task_open_dedupe",
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.title}"


class TaskLink(models.Model):
    """A record a task is about; the task follows that record's privacy."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="links")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="task_links")

    class Meta:
        indexes = [models.Index(fields=["record", "task"], name="tasklink_record")]
        constraints = [models.UniqueConstraint(fields=["task", "record"], name="tasklink_unique")]

    def __str__(self) -> str:
        return f"{self.task_id} ~ {self.record_id}"


class Counts(models.TextChoices):
    TEAM = "team"  # contact by anyone on our team counts
    MEMBER = "member"  # only contact by the cadence's member counts


class Contact(models.TextChoices):
    TWO_WAY = "two_way"  # they engaged too (a call, a meeting, a reply)
    ANY = "any"  # any shared interaction, one-way outreach included


class Cadence(models.Model):
    """Keep in touch with a person or organisation every ``ideal_days`` (at most ``max_days``).

    Its due day is counted from the last real contact, never from when it was set.
    """

    id = models.CharField(primary_key=True, max_length=40)
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="cadences")
    member = models.ForeignKey(
        Record, null=True, blank=True, on_delete=models.CASCADE, related_name="member_cadences"
    )  # one of our people, or none: the whole team
    ideal_days = models.PositiveIntegerField()
    max_days = models.PositiveIntegerField()
    counts = models.CharField(max_length=10, choices=Counts.choices, default=Counts.TEAM)
    contact = models.CharField(max_length=10, choices=Contact.choices, default=Contact.TWO_WAY)
    paused_until = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kith_cadences",
    )  # who gets the tasks the scan opens
    created_by = models.CharField(max_length=254, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["record"], condition=Q(member__isnull=True), name="cadence_team_unique"
            ),
            models.UniqueConstraint(
                fields=["record", "member"],
                condition=Q(member__isnull=False),
                name="cadence_member_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.record_id} every {self.ideal_days}d"
