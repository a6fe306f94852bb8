"""Rules (trigger -> conditions -> actions), the events waiting for them, and their runs."""

from __future__ import annotations

from django.db import models

from kith.core import clock


class Rule(models.Model):
    """A rule as its author wrote it (``spec``), with the columns matching reads."""

    id = models.CharField(primary_key=True, max_length=40)
    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=500, blank=True, default="")
    enabled = models.BooleanField(default=True)
    trigger = models.CharField(max_length=40)  # the trigger's "on"
    spec = models.JSONField(default=dict)  # trigger, conditions, actions, limits
    version = models.PositiveIntegerField(default=1)
    created_by = models.CharField(max_length=254, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    last_scan_at = models.DateTimeField(null=True, blank=True)  # time-based triggers

    class Meta:
        indexes = [models.Index(fields=["enabled", "trigger"], name="rule_enabled_trigger")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RuleEvent(models.Model):
    """A domain event some enabled rules may want: written with the change, run by the worker."""

    PENDING = "pending"
    DONE = "done"

    id = models.BigAutoField(primary_key=True)
    event = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    rule_ids = models.JSONField(default=list)  # the rules whose trigger it passed
    chain = models.JSONField(default=list)  # the rules whose actions caused it
    status = models.CharField(max_length=10, default=PENDING)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [models.Index(fields=["status", "id"], name="ruleevent_pending")]

    def __str__(self) -> str:
        return f"{self.id} {self.event} {self.status}"


class RuleRun(models.Model):
    """One evaluation of a rule for one record: each condition's inputs, each action's result."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"  # conditions not met, or a limit (depth, rate, re-enrolment)

    id = models.CharField(primary_key=True, max_length=40)
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    record_id = models.CharField(max_length=40, blank=True, default="")
    trigger = models.CharField(max_length=40)
    event_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, default=RUNNING)
    reason = models.CharField(max_length=300, blank=True, default="")
    depth = models.PositiveSmallIntegerField(default=0)
    trace = models.JSONField(default=dict)
    started_at = models.DateTimeField(default=clock.now)
    deadline_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["rule", "started_at"], name="rulerun_rule_started"),
            models.Index(fields=["rule", "record_id", "started_at"], name="rulerun_rule_record"),
            models.Index(fields=["status", "deadline_at"], name="rulerun_status_deadline"),
        ]
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.id} {self.rule_id} {self.status}"


class Enrolment(models.Model):
    """A record a rule has acted on: when first and last, how often (re-enrolment limits)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="enrolments")
    record_id = models.CharField(max_length=40)
    key = models.CharField(max_length=60, blank=True, default="")  # e.g. a date-offset's day
    count = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField(default=clock.now)
    last_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "record_id", "key"], name="enrolment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.record_id} x{self.count}"


class ListMember(models.Model):
    """A record in a saved list as a rule last saw it (list entered/left triggers)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="members")
    record_id = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "record_id"], name="listmember_unique")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.record_id}"
