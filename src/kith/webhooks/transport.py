"""One webhook request: only to allowed addresses, never redirected, within a total deadline.

The target's name is resolved at delivery time and the connection is made to the address
that was checked, so a DNS answer cannot switch a public name to an internal one between
the check and the request. Errors are recorded as a category (refused, timeout, TLS, DNS
...), never the socket's own text, so the delivery log cannot be used to scan ports.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from kith.core.errors import ValidationError

ALLOW_ENV = "KITH_WEBHOOK_ALLOW"  # comma list of address classes to allow: loopback, private
DEADLINE_ENV = "KITH_WEBHOOK_DEADLINE"  # seconds for a whole request, reply included
DEFAULT_DEADLINE = 10.0
REPLY_LIMIT = 64 * 1024  # bytes of a receiver's reply that are read (and then dropped)
_LOCAL_NAMES = ("localhost", ".localhost")
_INTERNAL_SUFFIXES = (".internal", ".local", ".localdomain", ".lan", ".home.arpa", ".intranet")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Outcome:
    """What one request came to: the HTTP status (when a reply came) and an error category."""

    status_code: int | None
    error: str
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Blocked(Exception):
    """The target is an address class Kith does not send to."""


def allowed_classes() -> set[str]:
    """The address classes the operator allows besides public ones (``KITH_WEBHOOK_ALLOW``)."""
    raw = os.environ.get(ALLOW_ENV, "")
    return {v.strip().lower() for v in raw.split(",") if v.strip()}


def deadline_seconds() -> float:
    """The total time one request may take (``KITH_WEBHOOK_DEADLINE``, default 10 s)."""
    try:
        value = float(os.environ.get(DEADLINE_ENV, DEFAULT_DEADLINE))
    except ValueError:
        return DEFAULT_DEADLINE
    return value if 0 < value <= 300 else DEFAULT_DEADLINE


def blocked_reason(ip: Address, allow: set[str]) -> str | None:
    """Why ``ip`` may not be a webhook target, or ``None`` when it may."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if "loopback" in allow else "a loopback address"
    if ip.is_link_local:
        return "a link-local address"  # cloud metadata lives here: never allowed
    if ip.is_multicast or ip.is_unspecified:
        return "not a unicast address"
    if ip.is_global:
        return None
    if ip.is_private and "private" in allow:
        return None
    return "a private or reserved address"


def _literal_address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:  # the legacy forms inet_aton takes: 0x7f000001, 2130706433, 127.1
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def check_url(url: str) -> str:
    """``url`` stripped, if it may be a webhook target; else a ValidationError naming why."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname or len(text) > 500:
        raise ValidationError(f"url: {url!r} is not an http(s) URL", field="url")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "url: must not hold a user name or password (the signature authenticates Kith)",
            field="url",
        )
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise ValidationError(f"url: {url!r} has an invalid port", field="url") from None
    host = parts.hostname.rstrip(".").lower()
    allow = allowed_classes()
    literal = _literal_address(host)
    reason: str | None = None
    if literal is not None:
        reason = blocked_reason(literal, allow)
    elif host in _LOCAL_NAMES or host.endswith(_LOCAL_NAMES[1]):
        reason = None if "loopback" in allow else "a loopback name"
    elif "." not in host or host.endswith(_INTERNAL_SUFFIXES):
        reason = None if "private" in allow else "an internal name"
    if reason:
        raise ValidationError(
            f"url: {host!r} is {reason}; webhooks go to public addresses only "
            f"(an operator may allow loopback or private ones with {ALLOW_ENV})",
            field="url",
        )
    return text


def resolve(host: str, port: int) -> Address:
    """The address to connect to for ``host``: every address it resolves to must be allowed."""
    allow = allowed_classes()
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for ip in addresses:
        reason = blocked_reason(ip, allow)
        if reason:
            raise Blocked(f"blocked: the host resolves to {reason}")
    if not addresses:
        raise socket.gaierror("no address")
    return addresses[0]


def _category(exc: BaseException, expired: bool) -> str:
    if expired or isinstance(exc, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(exc, Blocked):
        return str(exc)
    if isinstance(exc, socket.gaierror):
        return "dns: the host name did not resolve"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls: the secure connection failed"
    if isinstance(exc, ConnectionRefusedError):
        return "refused: the connection was refused"
    if isinstance(exc, http.client.HTTPException):
        return "protocol: the reply was not valid HTTP"
    return "connection: the connection failed"


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body`` to ``url`` once; a redirect is a failure and is not followed."""
    started = time.monotonic()
    deadline = started + deadline_seconds()
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    expired = threading.Event()
    sock: socket.socket | None = None
    watchdog: threading.Timer | None = None

    def expire() -> None:  # a receiver that drips its reply is cut off at the deadline
        expired.set()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        ip = resolve(host, port)
        watchdog = threading.Timer(max(deadline - time.monotonic(), 0.0), expire)
        watchdog.daemon = True
        watchdog.start()
        sock = socket.create_connection((str(ip), port), timeout=deadline - time.monotonic())
        if parts.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        conn = http.client.HTTPConnection(host, port, timeout=deadline - time.monotonic())
        conn.sock = sock  # already connected to the checked address
        conn.request("POST", path, body=body, headers=headers)
        reply = conn.getresponse()
        reply.read(REPLY_LIMIT)
        conn.close()
    except Exception as exc:  # every failure becomes a category in the delivery log
        return Outcome(None, _category(exc, expired.is_set()), took())
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if sock is not None:
            sock.close()
    if expired.is_set():
        return Outcome(None, "timeout", took())
    code = reply.status
    if 300 <= code < 400:
        return Outcome(code, f"redirect: HTTP {code} is not followed", took())
    return Outcome(code, "" if 200 <= code < 300 else f"HTTP {code}", took())
