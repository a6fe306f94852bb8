"""In-app notifications, each user's preferences per kind, and one-click unsubscribe tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kith.core import clock


class Notification(models.Model):
    """Something a user is told: shown under the bell (``in_app``) and/or sent by email."""

    class Email(models.TextChoices):
        NONE = "", "not sent by email"
        QUEUED = "queued", "queued"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=60)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    link = models.CharField(max_length=500, blank=True, default="")
    evidence = models.JSONField(default=dict, blank=True)
    in_app = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email = models.CharField(max_length=10, choices=Email.choices, blank=True, default="")
    email_attempts = models.IntegerField(default=0)
    email_error = models.CharField(max_length=300, blank=True, default="")
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "in_app", "-created_at", "-id"], name="notif_user_new"),
            models.Index(fields=["user", "read_at"], name="notif_user_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.title}"


class Preference(models.Model):
    """A user's choice for one kind of notification (kind ``*``: every kind not set)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs"
    )
    kind = models.CharField(max_length=60)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notif_pref_user_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} in_app={self.in_app} email={self.email}"


class UnsubscribeToken(models.Model):
    """The one-click unsubscribe of a user from one kind's email (kind ``*``: from all).

    Only the SHA-256 of the token is kept; the token itself is derived (HMAC) from the
    server's secret and ``salt``, so every email of that kind carries the same link.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="unsubscribe_tokens"
    )
    kind = models.CharField(max_length=60)
    salt = models.CharField(max_length=64)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notif_unsub_user_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"
