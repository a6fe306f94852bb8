"""Merges of duplicate records, with the snapshot that lets them be undone exactly."""

from __future__ import annotations

from django.db import models

from kith.core import clock


class Merge(models.Model):
    """One merge of ``other`` into ``keep``; ``snapshot`` holds every row it touched."""

    id = models.CharField(primary_key=True, max_length=40)
    # plain ids, not foreign keys: a merge outlives what it points at and must not cascade
    keep_id = models.CharField(max_length=40)
    other_id = models.CharField(max_length=40)
    snapshot = models.JSONField(default=dict)
    summary = models.JSONField(default=dict)
    actor = models.CharField(max_length=150, blank=True, default="")
    at = models.DateTimeField(default=clock.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["other_id", "at"], name="merge_other_at"),
            models.Index(fields=["keep_id", "at"], name="merge_keep_at"),
        ]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.other_id} -> {self.keep_id} ({self.id})"


class DupKey(models.Model):
    """One blocking key of a live record (``email:…``, ``phone:…``, ``domain:…``,
    ``org:<id>:<initials>``, ``name:<type>:<sorted words>``), kept by ``kith.dedupe.kept``."""

    record = models.ForeignKey("records.Record", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=700)

    class Meta:
        indexes = [
            models.Index(fields=["key", "record"], name="dupkey_key"),
            models.Index(fields=["record"], name="dupkey_record"),
        ]

    def __str__(self) -> str:
        return f"{self.record_id} {self.key}"


class DupBlock(models.Model):
    """How many live records hold a blocking key (only keys held by two or more)."""

    key = models.CharField(primary_key=True, max_length=700)
    size = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["size"], name="dupblock_size")]

    def __str__(self) -> str:
        return f"{self.key} ({self.size})"


class DupPair(models.Model):
    """A likely duplicate pair (``a_id`` < ``b_id``) scoring at least ``kept.KEPT_MIN``,
    with its reasons; ``keep`` is the side proposed to keep (the older record)."""

    a = models.ForeignKey("records.Record", on_delete=models.CASCADE, related_name="+")
    b = models.ForeignKey("records.Record", on_delete=models.CASCADE, related_name="+")
    keep = models.ForeignKey("records.Record", on_delete=models.CASCADE, related_name="+")
    type_key = models.CharField(max_length=40)
    score = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["a", "b"], name="duppair_unique")]
        indexes = [
            models.Index(fields=["-score", "a", "b"], name="duppair_rank"),
            models.Index(fields=["b"], name="duppair_b"),
        ]

    def __str__(self) -> str:
        return f"{self.a_id} ~ {self.b_id} ({self.score})"


class DupState(models.Model):
    """One row: when the kept pairs were last rebuilt whole (none: never, build them)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    capped = models.PositiveIntegerField(default=0)
    # a big bulk load queued a rebuild: events wait for it, reads show the pairs as they were
    stale = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"rebuilt {self.rebuilt_at}"


class NotDuplicate(models.Model):
    """Two records someone said are not the same (``a_id`` < ``b_id``): never proposed as
    a duplicate pair again, whatever the scores say."""

    a_id = models.CharField(max_length=40)
    b_id = models.CharField(max_length=40)
    actor = models.CharField(max_length=150, blank=True, default="")
    at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["a_id", "b_id"], name="notdup_unique")]

    def __str__(self) -> str:
        return f"{self.a_id} != {self.b_id}"
