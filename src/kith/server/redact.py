"""Hide private records in the answers of analytics (health, paths, maps, duplicates ...)."""

from __future__ import annotations

import re
from typing import Any

from kith.accounts.selectors import hidden_ids

_RECORD_ID = re.compile(r"^[a-z][a-z0-9]{1,7}_[0-9a-z]{12}$")


def _collect(data: Any, out: set[str]) -> None:
    if isinstance(data, str):
        if _RECORD_ID.match(data):
            out.add(data)
    elif isinstance(data, dict):
        for value in data.values():
            _collect(value, out)
    elif isinstance(data, list | tuple):
        for value in data:
            _collect(value, out)


def _touches(data: Any, hidden: set[str]) -> bool:
    found: set[str] = set()
    _collect(data, found)
    return bool(found & hidden)


def _prune(data: Any, hidden: set[str]) -> Any:
    if isinstance(data, list | tuple):
        return [_prune(v, hidden) for v in data if not _touches(v, hidden)]
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if isinstance(value, dict) and _touches(value, hidden):
                out[key] = None if value.get("id") in hidden else _prune(value, hidden)
            elif isinstance(value, str) and value in hidden:
                out[key] = None
            else:
                out[key] = _prune(value, hidden)
        return out
    return data


def without_hidden(user: Any, data: Any) -> Any:
    """``data`` with every list item that mentions a record ``user`` may not see removed."""
    ids: set[str] = set()
    _collect(data, ids)
    hidden = hidden_ids(user, ids)
    return _prune(data, hidden) if hidden else data
