"""Users' roles and teams, personal API tokens, DB-held rate counters and the server secret."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kith.core import clock


class Role(models.TextChoices):
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class Profile(models.Model):
    """Kith's side of a Django user: a role and an optional team (sales, support ...)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kith_profile"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    team = models.CharField(max_length=60, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.user_id} {self.role}"


class ApiToken(models.Model):
    """A personal API token; only a SHA-256 of the secret is stored."""

    id = models.CharField(primary_key=True, max_length=40)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.id


class RateCounter(models.Model):
    """Requests of one principal in one fixed window; shared by every server process."""

    key = models.CharField(primary_key=True, max_length=200)
    count = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField(default=clock.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.key}={self.count}"


class ServerSecret(models.Model):
    """The server's signing key, generated once and shared by every process via the DB."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return "server secret"
