"""Who is calling: Bearer tokens and Django sessions; roles; the shared rate limit."""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.throttling import BaseThrottle
from ninja.utils import check_csrf

from kith.accounts.selectors import role_of, token_user
from kith.accounts.services import note_token_use
from kith.accounts.throttle import hit_batched
from kith.core.context import acting_as

ROLE_RANK = {"viewer": 1, "member": 2, "admin": 3}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class Forbidden(Exception):
    """The caller is known but not allowed to do this (403)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    raw = os.environ.get("KITH_TRUSTED_PROXIES", "")
    nets = []
    for item in raw.split(","):
        with contextlib.suppress(ValueError):
            if item.strip():
                nets.append(ipaddress.ip_network(item.strip(), strict=False))
    return nets


def _trusted(address: str, nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in nets)


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the peer that sent ``request`` is one of ``KITH_TRUSTED_PROXIES``."""
    nets = _trusted_proxies()
    return bool(nets) and _trusted(str(request.META.get("REMOTE_ADDR") or ""), nets)


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``X-Forwarded-For`` counts only when a trusted proxy sent it.

    ``KITH_TRUSTED_PROXIES`` lists the proxies' addresses or networks (comma-separated);
    the client is the nearest address in the header that is not one of them. Without the
    setting, or from any other peer, the header is ignored, so nobody picks their own
    address for rate limits, sign-in throttling or the audit log.
    """
    peer = str(request.META.get("REMOTE_ADDR") or "")
    nets = _trusted_proxies()
    if nets and _trusted(peer, nets):
        hops = [h.strip() for h in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
        for hop in reversed([h for h in hops if h]):
            if not _trusted(hop, nets):
                return hop[:64]
    return peer[:64]


class BearerToken(HttpBearer):
    """``Authorization: Bearer TOKEN`` with a personal API token."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = token_user(token)
        if found is None:
            return None
        api_token, user = found
        note_token_use(api_token, ip=client_ip(request))
        request.user = user
        return user


class Session(APIKeyCookie):
    """A Django session cookie; unsafe methods must carry the CSRF token."""

    def __init__(self) -> None:
        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request):
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header")
        return user


AUTH = [BearerToken(), Session()]


def user_of(request: HttpRequest) -> Any:
    return getattr(request, "auth", None)


def require(request: HttpRequest, role: str) -> Any:
    """The calling user if their role is at least ``role``; else 403."""
    user = user_of(request)
    have = role_of(user)
    if have is None or ROLE_RANK[have] < ROLE_RANK[role]:
        raise Forbidden(f"this needs the {role} role; you are {have or 'not signed in'}")
    return user


@contextlib.contextmanager
def acting(request: HttpRequest, role: str = "member") -> Iterator[Any]:
    """Check the role, then attribute every change in the block to the calling user."""
    user = require(request, role)
    with acting_as(user.username):
        yield user


class DatabaseThrottle(BaseThrottle):
    """Requests per minute per user (or per address when anonymous), counted in the DB."""

    def allow_request(self, request: HttpRequest) -> bool:
        try:
            rate = int(os.environ.get("KITH_RATE_LIMIT", "1200"))
        except ValueError:
            rate = 1200
        if rate <= 0:
            return True
        user = user_of(request)
        ident = f"user:{user.pk}" if user is not None else f"ip:{client_ip(request)}"
        return hit_batched(f"api:{ident}", limit=rate, seconds=60)

    def wait(self) -> float | None:
        return 60.0
