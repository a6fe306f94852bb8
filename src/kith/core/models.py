"""Change history shared by every app: who changed what, when, from what to what."""

from __future__ import annotations

from django.db import models

from kith.core import clock


class Change(models.Model):
    """One field-level change (or lifecycle event) of a record, relationship or interaction."""

    entity_id = models.CharField(max_length=100)  # a record id, or type:KEY, reltype:KEY
    entity_kind = models.CharField(max_length=20)
    action = models.CharField(max_length=20)
    field = models.CharField(max_length=100, blank=True, default="")
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    actor = models.CharField(max_length=150, blank=True, default="")
    at = models.DateTimeField(default=clock.now)
    note = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["entity_id", "at"], name="change_entity_at")]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.entity_id} {self.action} {self.field}"
