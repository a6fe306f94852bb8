"""Who is acting, and from which address: recorded with every change."""

from __future__ import annotations

import contextlib
import contextvars
import getpass
import os
from collections.abc import Iterator

_actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("kith_actor", default=None)


def current_actor() -> str:
    """Return the acting user: set by the caller, else ``KITH_USER``, else the OS user."""
    actor = _actor.get()
    if actor:
        return actor
    env = os.environ.get("KITH_USER")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


@contextlib.contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Attribute the changes made inside the block to ``actor``."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


_ip: contextvars.ContextVar[str] = contextvars.ContextVar("kith_client_ip", default="")


def current_ip() -> str:
    """Return the address of the client whose request is being served ("" outside one)."""
    return _ip.get()


@contextlib.contextmanager
def from_ip(ip: str) -> Iterator[None]:
    """Attribute the audited changes made inside the block to the client address ``ip``."""
    token = _ip.set((ip or "")[:64])
    try:
        yield
    finally:
        _ip.reset(token)
