"""What a database error means for the person who met it: unreachable, or busy."""

from __future__ import annotations

from django.db import OperationalError

_UNREACHABLE = (
    "connection failed",
    "could not connect",
    "connection to server",
    "server closed the connection",
    "terminating connection",
    "connection refused",
    "connection is closed",
    "the connection is lost",
    "no route to host",
    "unable to open database file",
    "name or service not known",
)


def unreachable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot be reached (not that it is busy)."""
    text = str(exc).lower()
    return isinstance(exc, OperationalError) and any(s in text for s in _UNREACHABLE)


def message(exc: BaseException) -> str:
    """One line for the user: the database is unreachable, or busy with other writes."""
    if unreachable(exc):
        return "the database cannot be reached; try again shortly (nothing was saved)"
    return "the database is busy; retry"
