"""Live capture: mail accounts synced over IMAP, calendars over CalDAV or ICS feeds."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kith.core import clock


class Source(models.Model):
    """What every connected source has: an owner, an encrypted secret and a sync status."""

    NEVER, OK, ERROR = "never", "ok", "error"

    id = models.CharField(primary_key=True, max_length=40)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )  # None: connected for the workspace (the CLI without --user)
    url = models.CharField(max_length=500)  # never holds a secret
    username = models.CharField(max_length=254, blank=True, default="")
    secret = models.TextField(blank=True, default="")  # Fernet token (kith.capture.secrets)
    status = models.CharField(max_length=10, default=NEVER)
    last_error = models.CharField(max_length=500, blank=True, default="")
    failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_counts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        abstract = True


class MailAccount(Source):
    """An IMAP mailbox: which folders, how far back, bodies or headers only."""

    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField()
    security = models.CharField(max_length=10)  # tls, starttls, plain (loopback only)
    auth = models.CharField(max_length=10, default="password")  # password, xoauth2
    folders = models.JSONField(default=list)
    since_days = models.PositiveIntegerField(null=True, blank=True)
    headers_only = models.BooleanField(default=False)
    skip_personal = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.id} {self.url}"


class MailFolder(models.Model):
    """Where a folder's sync stands: its UIDVALIDITY, the last UID written, its MODSEQ."""

    account = models.ForeignKey(MailAccount, on_delete=models.CASCADE, related_name="states")
    name = models.CharField(max_length=300)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    uidnext = models.BigIntegerField(null=True, blank=True)
    highestmodseq = models.BigIntegerField(null=True, blank=True)
    seen = models.PositiveIntegerField(default=0)  # messages read from it so far
    resets = models.PositiveIntegerField(default=0)  # UIDVALIDITY changes met
    error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="capture_folder_once")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.name}"


class Block(models.Model):
    """An address or a domain whose mail is never captured (a user's own blocks)."""

    kind = models.CharField(max_length=10)  # address, domain
    value = models.CharField(max_length=254)
    created_by = models.CharField(max_length=254, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="capture_block_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


class Calendar(Source):
    """A CalDAV collection or a published ICS feed."""

    kind = models.CharField(max_length=10)  # caldav, ics
    etag = models.CharField(max_length=300, blank=True, default="")
    last_modified = models.CharField(max_length=100, blank=True, default="")
    sync_token = models.CharField(max_length=500, blank=True, default="")
    ctag = models.CharField(max_length=300, blank=True, default="")
    window_days = models.PositiveIntegerField(default=90)  # future occurrences expanded

    def __str__(self) -> str:
        return f"{self.id} {self.url}"


class CalendarEvent(models.Model):
    """One event a calendar holds, by its href (CalDAV) or UID (ICS), and what it made."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="events")
    href = models.CharField(max_length=500)
    etag = models.CharField(max_length=300, blank=True, default="")
    external_ids = models.JSONField(default=list)  # the interactions' external ids

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["calendar", "href"], name="capture_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.calendar_id} {self.href}"
