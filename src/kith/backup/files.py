"""Telling a backup file from a record reference, without importing Django (CLI start-up)."""

from __future__ import annotations

from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"


def is_backup_file(path: str) -> bool:
    """True when ``path`` names an existing gzip file (how ``kith restore FILE`` tells)."""
    try:
        candidate = Path(path).expanduser()
        if not candidate.is_file():
            return False
        with candidate.open("rb") as fh:
            return fh.read(2) == GZIP_MAGIC
    except OSError:
        return False
