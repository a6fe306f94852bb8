"""Duplicates, backup and restore on the benchmark workspace, against raw sqlite3 reads.

``python -m benchmarks dedupe [--small] [--no-backup]`` (default: full, 100,000 people). Works on a
copy of the cached workspace; each Kith step runs in a child process (Django is set up
once per process) and reports its time and peak memory. The baseline is a raw
``sqlite3`` read of the same rows, measured in the same run.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.memory import PEAK_MB_SOURCE
from benchmarks.workspace import ensure_workspace

STEP = (
    PEAK_MB_SOURCE
    + """
import json, sys, time, kith
kith.open(sys.argv[1])
what, arg = sys.argv[2], sys.argv[3]
t = time.perf_counter()
if what == "duplicates":
    from kith.dedupe.selectors import find_duplicates
    r = find_duplicates(min_score=50, limit=20)
    extra = {"records": r["records"], "pairs": r["total"], "top": r["pairs"][:3]}
elif what == "backup":
    from kith.backup.services import create_backup
    r = create_backup(arg, overwrite=True)
    extra = {"rows": r["rows"], "bytes": r["bytes"]}
else:
    from kith.backup.services import restore_backup
    r = restore_backup(arg)
    extra = {"rows": r["rows"]}
seconds = time.perf_counter() - t
peak = peak_mb()
print(json.dumps({"seconds": seconds, "peak_mb": peak, **extra}, default=str))
"""
)


def _step(db: Path, what: str, arg: str = "") -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", STEP, f"sqlite:///{db}", what, arg],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _raw_duplicate_inputs(db: Path) -> float:
    """Read what duplicates reads (names, shared contact values, employers) with sqlite3."""
    t = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute("SELECT id, type_key, name, name_key FROM records_record").fetchall()
    con.execute(
        "SELECT kind, normalized, record_id FROM records_contactpoint WHERE kind IN "
        "('email','phone','domain')"
    ).fetchall()
    con.execute(
        "SELECT from_record_id, to_record_id FROM relationships_relationship "
        "WHERE type_key = 'works_at' AND until IS NULL"
    ).fetchall()
    con.close()
    return time.perf_counter() - t


def _raw_dump(db: Path) -> float:
    """Read every row of every Kith table with sqlite3 (what a backup must at least do)."""
    t = time.perf_counter()
    con = sqlite3.connect(db)
    names = [
        r[0]
        for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
        if not r[0].startswith(("sqlite_", "django_"))
    ]
    for name in names:
        for _ in con.execute(f'SELECT * FROM "{name}"'):
            pass
    con.close()
    return time.perf_counter() - t


def main(argv: list[str]) -> None:
    scale = "small" if "--small" in argv else "full"
    source = ensure_workspace(scale)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "work.db"
        shutil.copy(source, db)
        _step(db, "duplicates")  # migrate the copy and warm the cache
        base = _raw_duplicate_inputs(db)
        dup = _step(db, "duplicates")
        print(f"[{scale}] duplicates over {dup['records']} records: {dup['seconds']:.2f} s")
        print(f"  {dup['pairs']} pairs with score >= 50, peak memory {dup['peak_mb']:.0f} MB")
        print(f"  raw sqlite3 read of the same inputs: {base:.2f} s")
        print(f"  ratio: {float(dup['seconds']) / base:.1f}x")
        for p in dup["top"]:
            pair = f"{p['keep']['name']} / {p['other']['name']}"
            print(f"  e.g. {p['score']}: {pair}: {'; '.join(p['reasons'])}")

        if "--no-backup" in argv:
            return
        file = Path(tmp) / "ws.kith.gz"
        base = _raw_dump(db)
        made = _step(db, "backup", str(file))
        print(f"[{scale}] backup of {made['rows']} rows: {made['seconds']:.1f} s, ", end="")
        print(f"{int(made['bytes']) / 1e6:.0f} MB file, peak memory {made['peak_mb']:.0f} MB")
        print(f"  raw sqlite3 read of every table: {base:.1f} s, ratio ", end="")
        print(f"{float(made['seconds']) / base:.1f}x")
        fresh = Path(tmp) / "restored.db"
        back = _step(fresh, "restore", str(file))
        print(f"[{scale}] restore into a new SQLite file: {back['seconds']:.1f} s, ", end="")
        print(f"peak memory {back['peak_mb']:.0f} MB")
