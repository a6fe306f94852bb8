"""Webhook subscriptions and their outbox of signed deliveries, with every attempt kept."""

from __future__ import annotations

from django.db import models

from kith.core import clock


class Webhook(models.Model):
    """A URL that receives the chosen events, signed with its own secret."""

    id = models.CharField(primary_key=True, max_length=40)
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    created_by = models.CharField(max_length=254, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.id} {self.url}"


class Delivery(models.Model):
    """One event for one webhook: written with the change (outbox), sent after commit."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"  # its webhook was deactivated before it went out

    id = models.CharField(primary_key=True, max_length=40)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.id} {self.event} {self.status}"


class Attempt(models.Model):
    """One try at sending a delivery: when, the HTTP status or the error, how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=clock.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error}"
