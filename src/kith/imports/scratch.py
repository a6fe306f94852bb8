"""Where an import's working copies live: a private folder in Kith's data directory.

An uploaded file is kept in the database (the import job); to be read it is written to
a scratch folder, as are the bad rows an import sets aside (and the server spools an upload
too big for memory there: kith.server.uploads). Those folders are made in
``<data dir>/scratch`` (mode 0700), not the shared /tmp, and removed when the import ends;
one left behind by a killed process is removed by the next import once it is older than
twice the import time budget (no import can still be using it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from kith.conf import data_dir
from kith.imports.budget import DEFAULT_SECONDS, setting


def scratch_root() -> Path:
    root = data_dir() / "scratch"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(root, 0o700)
    return root


def sweep(root: Path, *, older_than: float) -> int:
    """Remove scratch folders (and uploads spooled there) not touched for ``older_than``
    seconds; how many."""
    cutoff, removed = time.time() - older_than, 0
    for entry in root.iterdir():
        with contextlib.suppress(OSError):
            if entry.stat().st_mtime >= cutoff:
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink()
            removed += 1
    return removed


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[str]:
    """A new private folder for one import's files, removed when the block ends."""
    root = scratch_root()
    sweep(root, older_than=2 * setting("KITH_IMPORT_SECONDS", DEFAULT_SECONDS))
    with tempfile.TemporaryDirectory(prefix=prefix, dir=root) as folder:
        yield folder
