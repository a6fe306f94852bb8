"""Relationship types (with inverse labels or symmetric) and dated relationships."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from kith.core import clock
from kith.records.models import Record


class RelationshipType(models.Model):
    """A kind of link: ``works_at`` read backwards is ``employs``; ``knows`` is symmetric."""

    key = models.SlugField(primary_key=True, max_length=60)
    inverse = models.SlugField(max_length=60, blank=True, default="")
    symmetric = models.BooleanField(default=False)
    # record type keys allowed at each end; empty means any type
    from_types = models.JSONField(default=list, blank=True)
    to_types = models.JSONField(default=list, blank=True)
    # interactions of the "from" record show on the "to" record's timeline while active
    rollup = models.BooleanField(default=False)
    builtin = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    def label_from(self, forward: bool) -> str:
        """The name of this link as read from its "from" end (or the other end)."""
        if forward or self.symmetric:
            return self.key
        return self.inverse or self.key


class Relationship(models.Model):
    """A dated, typed edge between two records. Ended edges stay as history."""

    id = models.CharField(primary_key=True, max_length=40)
    type = models.ForeignKey(RelationshipType, on_delete=models.PROTECT, db_column="type_key")
    from_record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="outgoing")
    to_record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="incoming")
    role = models.CharField(max_length=200, blank=True, default="")
    since = models.DateField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True, default="")
    source = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [
            models.Index(fields=["from_record", "type"], name="rel_from_type"),
            models.Index(fields=["to_record", "type"], name="rel_to_type"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(from_record=F("to_record")), name="rel_not_self"),
            models.CheckConstraint(
                condition=Q(since__isnull=True) | Q(until__isnull=True) | Q(until__gte=F("since")),
                name="rel_until_after_since",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_record_id} {self.type_id} {self.to_record_id}"
