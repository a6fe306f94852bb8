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
