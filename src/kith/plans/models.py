"""Relationship plans: own tables only for definitions and time series.

Plans, goals and key initiatives are records of the built-in types ``plan``, ``goal`` and
``initiative`` (migration 0002), so they get custom fields, history, privacy, search, lists
and the records API for free; a plan is tied to its account by a ``plan_for``
relationship, a goal to its plan by ``goal_of``, an initiative to its goal by ``advances``.
Here: the measures on goals (definitions) and their readings (a time series), the plan's
stakeholders and team (definitions of the stakeholder map), and the reviews (a time series).
"""

from __future__ import annotations

from django.db import models

from kith.core import clock
from kith.lists.models import SavedView
from kith.records.models import Record


class Measure(models.Model):
    """How a goal is measured: a catalogue metric (or by hand), a direction, baseline, target."""

    id = models.CharField(primary_key=True, max_length=40)
    goal = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="plan_measures")
    metric = models.CharField(max_length=80, blank=True, default="")  # "" = entered by hand
    label = models.CharField(max_length=200, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    window_days = models.PositiveIntegerField(default=90)
    direction = models.CharField(max_length=10, default="increase")
    baseline_auto = models.BooleanField(default=False)
    baseline_value = models.FloatField(null=True, blank=True)
    baseline_on = models.DateField(null=True, blank=True)
    target_value = models.FloatField()
    target_on = models.DateField()
    # the glide path's milestones between baseline and target: [["YYYY-MM-DD", value], ...]
    milestones = models.JSONField(default=list, blank=True)
    # the scope: the plan's account (no view), or the records a saved view selects (the
    # view's name is kept so a deleted view is said, not silently measured as the account)
    view = models.ForeignKey(
        SavedView, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    view_name = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.id} {self.metric or 'manual'}"


class Reading(models.Model):
    """One value of a measure on a day: computed (the worker, a review) or entered by hand."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="readings")
    on = models.DateField()
    value = models.FloatField(null=True, blank=True)
    n = models.IntegerField(default=0)
    source = models.CharField(max_length=10, default="computed")  # computed | manual | review
    note = models.CharField(max_length=500, blank=True, default="")
    reasons = models.JSONField(default=list, blank=True)
    evidence = models.JSONField(default=list, blank=True)
    taken_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "on", "source"],
                condition=models.Q(source="computed"),
                name="reading_one_computed_a_day",
            )
        ]
        indexes = [models.Index(fields=["measure", "on"], name="reading_measure_on")]

    def __str__(self) -> str:
        return f"{self.measure_id} {self.on} {self.value}"


class Stakeholder(models.Model):
    """A person on the customer's side in a plan: buying role, stance, our owner, topics."""

    id = models.CharField(primary_key=True, max_length=40)
    plan = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="plan_stakeholders")
    person = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="stakeholder_in")
    role = models.CharField(max_length=40)
    stance = models.CharField(max_length=10, default="unknown")
    influence = models.PositiveSmallIntegerField(default=3)  # 1 (little) .. 5 (decisive)
    owner = models.ForeignKey(
        Record, null=True, blank=True, on_delete=models.SET_NULL, related_name="stakeholders_owned"
    )
    topics = models.JSONField(default=list, blank=True)
    every_days = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "person"], name="stakeholder_once_a_plan")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.role} in {self.plan_id}"


class PlanMember(models.Model):
    """One of our people on a plan's team, with their role on it."""

    plan = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="plan_team")
    person = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="plan_memberships")
    role = models.CharField(max_length=80, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "person"], name="plan_member_once")]

    def __str__(self) -> str:
        return f"{self.person_id} on {self.plan_id}"


class Review(models.Model):
    """A plan review: its day, who came, notes and decisions; the plan's state that day is
    recomputed from the data, never copied."""

    id = models.CharField(primary_key=True, max_length=40)
    plan = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="plan_reviews")
    on = models.DateField()
    notes = models.TextField(blank=True, default="")
    decisions = models.TextField(blank=True, default="")
    attendees = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.CharField(max_length=254, blank=True, default="")

    class Meta:
        ordering = ["on", "created_at"]

    def __str__(self) -> str:
        return f"{self.plan_id} review {self.on}"


class PlanTemplate(models.Model):
    """A saved plan template: goals, measures and initiatives with offsets from the start
    (the JSON shape of ``kith.plans.templates``; built-in templates live in code)."""

    key = models.CharField(primary_key=True, max_length=40)
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return self.key
