"""Who is acting, and from which address: recorded with every change."""

from __future__ import annotations

import contextlib
import contextvars
import getpass
import os
from collections.abc import Iterable, Iterator

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


_rules: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "kith_rule_chain", default=()
)


def rule_chain() -> tuple[str, ...]:
    """The rules whose actions are running, outermost first (empty outside a rule)."""
    return _rules.get()


@contextlib.contextmanager
def running_rule(rule_id: str, *, caused_by: Iterable[str] | None = None) -> Iterator[None]:
    """Mark the writes made inside the block as a rule's actions (their events carry depth).

    ``caused_by``: the chain of rules that caused the event being run (a worker runs it
    far from the writes that made it), else the chain running here.
    """
    base = tuple(caused_by) if caused_by is not None else _rules.get()
    token = _rules.set((*base, rule_id))
    try:
        yield
    finally:
        _rules.reset(token)
