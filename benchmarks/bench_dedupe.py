"""Duplicates, backup and restore on the benchmark workspace, against raw sqlite3 reads.

``python -m benchmarks dedupe [--small] [--no-backup]`` (default: full, 100,000 people). Works on a
copy of the cached workspace; each Kith step runs in a child process (Django is set up
once per process) and reports its time and peak memory. The baselines, measured in the
same run: a raw ``sqlite3`` read of the rows the search reads, and the whole search
(what the duplicates page ran on every read before the pairs were kept). The kept pairs:
their rebuild, a page of them, a write that makes a duplicate (the events keep the pairs)
and the duplicates page through the web stack after that write (goal < 300 ms).
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

GOAL_MS = 300.0
MAX_BLOCK = 25  # kith.dedupe.blocking.MAX_BLOCK (not imported: Django is set up in children)

KEPT = """
def kept_steps(t0):
    import statistics
    from django.test import Client
    from kith.accounts.selectors import get_user
    from kith.accounts.services import reset_demo_admin
    from kith.core.viewer import SYSTEM
    from kith.dedupe.kept import rebuild
    from kith.dedupe.selectors import find_duplicates
    from kith.records.models import ContactPoint
    from kith.records.services import add_person
    def ms(fn):
        t = time.perf_counter()
        out = fn()
        return (time.perf_counter() - t) * 1000, out
    out = {}
    out["rebuild_ms"], built = ms(rebuild)
    out["built"] = built
    page = lambda: find_duplicates(SYSTEM, min_score=50, limit=50)
    out["page_cold_ms"], first = ms(page)
    out["page_warm_ms"] = statistics.median(ms(page)[0] for _ in range(7))
    out["total"], out["next"] = first["total"], bool(first["next"])
    out["page2_ms"] = ms(lambda: find_duplicates(SYSTEM, min_score=50, limit=50,
                                                 after=first["next"]))[0]
    email, _ = reset_demo_admin(email="bench@kith.local")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user(email))
    client.get("/duplicates")
    phones = ContactPoint.objects.filter(kind="phone").values_list("value", flat=True)
    writes, pages = [], []
    for n, phone in enumerate(phones[:5]):
        w, made = ms(lambda: add_person(name=f"Bench Twin {n}", phones=[phone]))
        p, resp = ms(lambda: client.get("/duplicates"))
        assert resp.status_code == 200
        writes.append(w)
        pages.append(p)
    out["write_ms"], out["web_after_write_ms"] = writes, pages
    return out
"""

STEP = (
    PEAK_MB_SOURCE
    + KEPT
    + """
import json, sys, time, kith
kith.open(sys.argv[1])
what, arg = sys.argv[2], sys.argv[3]
t = time.perf_counter()
if what == "duplicates":  # the whole search (as_of: not the kept pairs)
    from kith.core import clock
    from kith.core.viewer import SYSTEM
    from kith.dedupe.selectors import find_duplicates
    r = find_duplicates(SYSTEM, min_score=50, limit=20, as_of=clock.today())
    extra = {"records": r["records"], "pairs": r["total"], "top": r["pairs"][:3],
             "skipped": r["skipped_count"]}
elif what == "kept":
    extra = kept_steps(t)
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
        _step(db, "kept")  # migrate the copy (builds the kept pairs) and warm the cache
        base = _raw_duplicate_inputs(db)
        dup = _step(db, "duplicates")
        print(f"[{scale}] the whole search over {dup['records']} records: {dup['seconds']:.2f} s")
        print(f"  {dup['pairs']} pairs with score >= 50, peak memory {dup['peak_mb']:.0f} MB")
        print(f"  {dup['skipped']} blocks capped (over {MAX_BLOCK} records: not evidence)")
        print(f"  raw sqlite3 read of the same inputs: {base:.2f} s")
        print(f"  ratio: {float(dup['seconds']) / base:.1f}x")
        for p in dup["top"]:
            pair = f"{p['keep']['name']} / {p['other']['name']}"
            print(f"  e.g. {p['score']}: {pair}: {'; '.join(p['reasons'])}")
        kept = _step(db, "kept")
        whole_ms = float(dup["seconds"]) * 1000
        built = kept["built"]
        print(f"[{scale}] kept pairs: rebuild {kept['rebuild_ms']:.0f} ms ", end="")
        print(f"({built['keys']} keys, {built['pairs']} pairs, {built['capped']} capped)")
        print(f"  a page of 50 kept pairs: cold {kept['page_cold_ms']:.1f} ms, ", end="")
        print(f"warm {kept['page_warm_ms']:.1f} ms, next page {kept['page2_ms']:.1f} ms ", end="")
        print(f"({whole_ms / kept['page_warm_ms']:.0f}x faster than the whole search)")
        for w, p in zip(kept["write_ms"], kept["web_after_write_ms"], strict=True):
            mark = "ok" if p < GOAL_MS else "SLOW"
            print(
                f"  a write making a duplicate: {w:.0f} ms; the duplicates page after it: ", end=""
            )
            print(f"{p:.0f} ms ({p / whole_ms:.3f}x the whole search) {mark}")

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
