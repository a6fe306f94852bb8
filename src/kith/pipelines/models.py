"""Pipelines and deals: own tables only for definitions and the stage history.

A deal is a record of the built-in type ``deal`` (migration 0002) tied to its account by
``deal_for`` and to its people by ``on_deal`` (role = buying role), so it gets custom
fields, history, privacy, search, lists and the records API for free. A pipeline belongs to
a record type (deals first; tickets and a lead lifecycle for people are pipelines too).
Here: pipelines, their stages and lost reasons (definitions), where each record stands
(``Position``), every stage move (``StageChange``, a time series the funnel is computed
from) and dashboards (definitions).
"""

from __future__ import annotations

from django.db import models

from kith.core import clock
from kith.records.models import Record, RecordType


class Pipeline(models.Model):
    """Ordered stages a record of one type goes through."""

    key = models.SlugField(primary_key=True, max_length=40)
    label = models.CharField(max_length=200)
    record_type = models.ForeignKey(RecordType, on_delete=models.PROTECT, db_column="type_key")
    lost_reason_required = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class Stage(models.Model):
    """One stage: its place, win probability (0..1) and category (open, won, lost)."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    key = models.SlugField(max_length=40)
    label = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField()
    probability = models.FloatField()
    category = models.CharField(max_length=4)  # open | won | lost

    class Meta:
        ordering = ["pipeline_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "key"], name="stage_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline_id}:{self.key}"


class LostReason(models.Model):
    """A reason a record of the pipeline may be lost for."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="reasons")
    key = models.SlugField(max_length=40)
    label = models.CharField(max_length=200)

    class Meta:
        ordering = ["pipeline_id", "key"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "key"], name="lost_reason_once"),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline_id}:{self.key}"


class Position(models.Model):
    """Where a record stands in a pipeline now (the last of its stage changes)."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="positions")
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="positions")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="positions")
    since = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "pipeline"], name="position_once"),
        ]
        indexes = [models.Index(fields=["pipeline", "stage"], name="position_stage")]

    def __str__(self) -> str:
        return f"{self.record_id} at {self.stage_id}"


class StageChange(models.Model):
    """One stage move: from (None when the record entered the pipeline), to, when, who,
    the lost reason and a note. Written by the service in the move's transaction."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="stage_changes")
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="changes")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    by = models.CharField(max_length=254, blank=True, default="")
    reason = models.CharField(max_length=200, blank=True, default="")
    note = models.CharField(max_length=1000, blank=True, default="")
    recorded_at = models.DateTimeField(default=clock.now)
    # how the record left this stage, set by the next move in its transaction (so the funnel
    # reads each entry's outcome from its own row): when, to which stage, the lost reason,
    # and the whole days spent in the stage. None while the record is still here.
    left_at = models.DateTimeField(null=True, blank=True)
    left_to = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    left_reason = models.CharField(max_length=200, blank=True, default="")
    dwell_days = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["pipeline", "record", "at"], name="change_pipe_record_at"),
            # covers the funnel's scan of a window (no table row is read)
            models.Index(
                fields=[
                    "pipeline",
                    "at",
                    "to_stage",
                    "from_stage",
                    "left_at",
                    "left_to",
                    "dwell_days",
                    "left_reason",
                    "record",
                ],
                name="change_funnel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_id} {self.from_stage_id} -> {self.to_stage_id}"


class Dashboard(models.Model):
    """A dashboard as data: a name, its owner, who it is shared with, and its widgets
    (each names a catalogue metric, filters, a grouping, a period, a comparison and a
    chart; checked by ``kith.pipelines.dashboards.check_widgets``)."""

    key = models.SlugField(primary_key=True, max_length=60)
    name = models.CharField(max_length=200)
    owner = models.CharField(max_length=254, blank=True, default="")  # a user's email
    shared = models.CharField(max_length=10, default="everyone")  # private | team | everyone
    widgets = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key
