"""Shared by every app: the change history, the admins' audit log and the atomic counters."""

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


class AuditEvent(models.Model):
    """Security-relevant events for admins: logins, token use, exports, permission changes."""

    at = models.DateTimeField(default=clock.now, db_index=True)
    actor = models.CharField(max_length=254, blank=True, default="")
    action = models.CharField(max_length=40)
    target = models.CharField(max_length=254, blank=True, default="")
    ip = models.CharField(max_length=64, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "accounts_auditevent"  # moved from accounts; the table and its rows stay
        indexes = [models.Index(fields=["action", "target", "at"], name="audit_action_target")]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at} {self.actor} {self.action} {self.target}"


class Counter(models.Model):
    """A named counter, moved only by one atomic ``UPDATE ... SET n = n + 1`` (core.counters)."""

    name = models.CharField(primary_key=True, max_length=60)
    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.n}"


class WorkerProcess(models.Model):
    """A running ``kith worker``: its heartbeat tells the others whether its jobs still run."""

    id = models.CharField(primary_key=True, max_length=64)
    host = models.CharField(max_length=255)
    pid = models.IntegerField()
    concurrency = models.IntegerField(default=1)
    started_at = models.DateTimeField(default=clock.now)
    beat_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.id} {self.host}:{self.pid}"


class PeriodicRun(models.Model):
    """When a periodic job (``kith.core.jobs.periodic``) last ran and is next due."""

    name = models.CharField(primary_key=True, max_length=100)
    schedule = models.CharField(max_length=300)
    last_run_at = models.DateTimeField(null=True)
    next_run_at = models.DateTimeField(null=True)  # null: the schedule never fires again
    last_job_id = models.CharField(max_length=64, blank=True, default="")
    runs = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} next {self.next_run_at}"
