"""The benchmark workspace: the core issue's data set on SQLite, built once and cached.

``full``: 100,000 people, 10,000 organisations, 300,000 relationships, 1,000,000
interactions (the anchor organisation has 1,000 people). ``small``: a tenth of that.
Built by the same generator and bulk loader as ``kith demo``; the file is cached under
``benchmarks/out/`` (or ``KITH_BENCH_DIR``) and reused while the spec is unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from kith.demo.generator import Spec

END = dt.date(2026, 11, 1)
SPECS = {
    "full": Spec(
        people=100_000,
        orgs=10_000,
        team=25,
        relationships=300_000,
        interactions=1_000_000,
        seed=1,
        end=END,
        anchor_size=1_000,
    ),
    "small": Spec(
        people=10_000,
        orgs=1_000,
        team=15,
        relationships=30_000,
        interactions=100_000,
        seed=1,
        end=END,
        anchor_size=1_000,
    ),
}


def out_dir() -> Path:
    path = Path(os.environ.get("KITH_BENCH_DIR", Path(__file__).parent / "out"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def spec_key(spec: Spec) -> str:
    fields = {k: str(v) for k, v in vars(spec).items()}
    return json.dumps(fields, sort_keys=True)


def ensure_workspace(scale: str = "full") -> Path:
    """Return the cached benchmark workspace for ``scale``, building it if needed."""
    spec = SPECS[scale]
    db = out_dir() / f"{scale}.db"
    stamp = db.with_suffix(".spec")
    if db.exists() and stamp.exists() and stamp.read_text() == spec_key(spec):
        return db
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    # a child process: Django is configured once per process, on one database
    code = (
        "import sys, kith; from benchmarks.workspace import SPECS; kith.open(sys.argv[1]); "
        "from kith.demo.services import load_demo; "  # its models load once Django is set up
        f"load_demo(spec=SPECS[{scale!r}])"
    )
    subprocess.run([sys.executable, "-c", code, f"sqlite:///{db}"], check=True)
    stamp.write_text(spec_key(spec))
    return db
