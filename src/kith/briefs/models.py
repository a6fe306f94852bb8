"""Digest subscriptions (a schedule per user, channels, a watermark) and the digests sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kith.core import clock


class Subscription(models.Model):
    """A user's digest: when (an RRULE in their zone), how (channels), and up to when the
    last one told (the watermark: the next digest covers exactly what came after it)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kith_digest"
    )
    rrule = models.CharField(max_length=300, default="FREQ=WEEKLY;BYDAY=MO;BYHOUR=7")
    zone = models.CharField(max_length=60, default="UTC")
    channels = models.JSONField(default=list)  # in_app, email, atom
    active = models.BooleanField(default=True)
    watermark = models.DateTimeField(null=True, blank=True)
    next_at = models.DateTimeField(null=True, blank=True)  # the schedule's next run (UTC)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"digest of {self.user_id} {self.rrule}"


class Digest(models.Model):
    """One digest as sent: its window, what it said (JSON, text, HTML), the email's state."""

    class Email(models.TextChoices):
        NONE = ""
        QUEUED = "queued"
        SENT = "sent"
        FAILED = "failed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kith_digests"
    )
    since = models.DateTimeField()
    until = models.DateTimeField()
    body = models.JSONField(default=dict)
    text = models.TextField(default="")
    html = models.TextField(default="")
    items = models.IntegerField(default=0)
    email = models.CharField(max_length=10, choices=Email.choices, blank=True, default="")
    email_error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [models.Index(fields=["user", "until"], name="digest_user_until")]

    def __str__(self) -> str:
        return f"digest {self.pk} of {self.user_id} to {self.until:%Y-%m-%d %H:%M}"


class CoachSetting(models.Model):
    """The workspace's coaching switch (one row): on, self (each sees only their own), or
    off; and each team's leads (emails), who may see their team's coaching."""

    mode = models.CharField(max_length=4, default="on")
    leads = models.JSONField(default=dict, blank=True)  # team -> [lead emails]
    updated_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"coaching {self.mode}"
