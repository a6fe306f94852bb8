"""What "value" means in ``kith best``: the kind-weighted two-way engagement of the last 365
days, unless a source registered here has values (won revenue, registered by
``kith.pipelines`` once deals exist), which then replaces it. A source is a function of the
viewer and the as-of day returning record id -> value, from what the viewer may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from kith.core.viewer import Viewer

ValueSource = Callable[[Viewer, dt.date], dict[str, float]]
_SOURCES: list[tuple[str, ValueSource]] = []


def register(basis: str, fn: ValueSource) -> None:
    """Add a value source named ``basis`` (once; the first with values wins)."""
    if all(f is not fn for _, f in _SOURCES):
        _SOURCES.append((basis, fn))


def override(viewer: Viewer, day: dt.date) -> tuple[str, dict[str, float]] | None:
    """(basis, values) of the first registered source with any value, else None."""
    for basis, fn in _SOURCES:
        got = fn(viewer, day)
        if got:
            return basis, got
    return None
