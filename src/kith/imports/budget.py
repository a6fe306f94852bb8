"""Every import's time and memory budget, the same for the CLI, the API and web jobs.

``KITH_IMPORT_SECONDS`` (default 3600) bounds the wall time of one import and
``KITH_IMPORT_MEMORY_MB`` (default 2048) how much the process may grow while it runs
(its resident memory now, less what it was when the import began, so a server's other
work is not counted against it). Both are checked after every chunk of units; an import
over either stops with a clear error and, being one transaction, writes nothing.
"""

from __future__ import annotations

import os
import time

from kith.core.errors import ValidationError

DEFAULT_SECONDS = 3600.0
DEFAULT_MEMORY_MB = 2048.0


def setting(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValidationError(f"{name}: {raw[:40]!r} is not a number", field=name) from None
    if value < 0:
        raise ValidationError(f"{name}: {raw[:40]!r} is negative", field=name)
    return value


def resident_mb() -> float:
    """The process's resident memory now, in MB (Linux /proc; elsewhere its peak)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1_048_576
    except (OSError, ValueError, IndexError):
        import resource  # noqa: PLC0415 - only where /proc is missing

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Budget:
    """The budget of one import, started when it begins."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seconds = setting("KITH_IMPORT_SECONDS", DEFAULT_SECONDS)
        self.memory_mb = setting("KITH_IMPORT_MEMORY_MB", DEFAULT_MEMORY_MB)
        self.started = time.monotonic()
        self.base_mb = resident_mb()

    def check(self, units: int) -> None:
        """Stop the import (a ValidationError naming the budget) if it is over either."""
        took = time.monotonic() - self.started
        if took > self.seconds:
            raise ValidationError(
                f"{self.name}: stopped after {units:,} units and {took:.0f} s, over the "
                f"import time budget of {self.seconds:g} s (KITH_IMPORT_SECONDS); nothing was "
                "imported: split the file or raise the budget",
                field="file",
            )
        grown = resident_mb() - self.base_mb
        if grown > self.memory_mb:
            raise ValidationError(
                f"{self.name}: stopped after {units:,} units, using {grown:.0f} MB, over the "
                f"import memory budget of {self.memory_mb:g} MB (KITH_IMPORT_MEMORY_MB); "
                "nothing was imported: split the file or raise the budget",
                field="file",
            )
