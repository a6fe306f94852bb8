"""Reads of users, tokens and the audit log; the Viewer of a signed-in user."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.contrib.auth.models import User

from kith.accounts.models import ApiToken, Profile, Role
from kith.core import clock
from kith.core.errors import NotFound
from kith.core.models import AuditEvent
from kith.core.paging import keyset
from kith.core.viewer import Viewer
from kith.records.normalize import normalize_email


def digest(secret: str) -> str:
    """The stored form of a token: SHA-256 (tokens are long random strings)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def get_user(email: str, *, field: str = "email") -> User:
    """The user with this email (their username), active or not."""
    key = normalize_email(email, field=field)
    user = User.objects.filter(username=key).select_related("kith_profile").first()
    if user is None:
        raise NotFound(f"{field}: no user {email!r}", field=field)
    return user


def role_of(user: Any) -> str | None:
    """``admin``, ``member`` or ``viewer``; ``None`` for anonymous or disabled users."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    profile = getattr(user, "_kith_profile_cache", None)
    if profile is None:
        try:  # loaded with the user by select_related, or one query
            profile = user.kith_profile
        except Profile.DoesNotExist:
            profile = None
        user._kith_profile_cache = profile
    return profile.role if profile else Role.VIEWER


def is_admin(user: Any) -> bool:
    return role_of(user) == Role.ADMIN


def user_view(user: User) -> dict[str, Any]:
    profile = Profile.objects.filter(user_id=user.pk).first()
    return {
        "id": user.pk,
        "email": user.username,
        "role": role_of(user) if user.is_active else (profile.role if profile else None),
        "team": profile.team if profile and profile.team else None,
        "active": user.is_active,
        "last_login": user.last_login.isoformat() if user.last_login else None,
    }


def list_users() -> list[dict[str, Any]]:
    users = User.objects.order_by("username")
    profiles = {p.user_id: p for p in Profile.objects.all()}
    return [
        {
            "id": u.pk,
            "email": u.username,
            "role": profiles[u.pk].role if u.pk in profiles else None,
            "team": (profiles[u.pk].team or None) if u.pk in profiles else None,
            "active": u.is_active,
            "last_login": u.last_login.isoformat() if u.last_login else None,
        }
        for u in users
    ]


def token_user(secret: str) -> tuple[ApiToken, User] | None:
    """The live token for ``secret`` and its active user, else ``None``."""
    if not secret or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__kith_profile")
        .filter(digest=digest(secret))
        .first()
    )
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= clock.now():
        return None
    return token, token.user


def token_view(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "user": token.user.username,
        "name": token.name,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
    }


def list_tokens(user: User | None = None) -> list[dict[str, Any]]:
    qs = ApiToken.objects.select_related("user").order_by("-created_at", "id")
    if user is not None:
        qs = qs.filter(user=user)
    return [token_view(t) for t in qs]


def audit_view(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "ip": event.ip,
        "detail": event.detail,
    }


# -- who is reading -------------------------------------------------------


def viewer_of(user: Any) -> Viewer:
    """The ``Viewer`` for a signed-in user (the shells build it once per request)."""
    role = role_of(user)
    return Viewer(
        user_id=getattr(user, "pk", None),
        admin=role == Role.ADMIN,
        label=getattr(user, "username", "") or "anonymous",
    )


def audit_page(
    *,
    action: str | None = None,
    actor: str | None = None,
    since: Any = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[dict[str, Any]], str | None]:
    """The audit log, newest first, filtered and cursor-paged."""
    qs = AuditEvent.objects.all()
    if action:
        qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor=actor)
    if since is not None:
        if since.tzinfo is not None:  # odd offsets such as +23:35 are fine once in UTC
            since = since.astimezone(dt.UTC)
        qs = qs.filter(at__gte=since)
    rows, nxt = keyset(qs, field="id", desc=True, cursor=cursor, limit=limit)
    return [audit_view(e) for e in rows], nxt
