"""Core benchmark: bulk load vs raw sqlite3, relations/timeline query time, `kith show` time.

Builds the benchmark workspace (100,000 people, 10,000 orgs, 300,000 relationships,
1,000,000 interactions; ``--small`` for a tenth) with Kith's bulk loader, and the same rows
with raw ``sqlite3`` ``executemany`` into a copy of the same schema, in the same run.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.workspace import SPECS, out_dir, spec_key

GOAL_LOAD_RATIO = 3.0
GOAL_QUERY_MS = 100.0
GOAL_SHOW_MS = 400.0


def _raw_rows(data, when) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    """The rows exactly as Kith stores them, prepared before the raw timing starts."""
    from kith.records.normalize import name_key

    now = when(__import__("django.utils.timezone", fromlist=["now"]).now())
    tables: dict[str, list[tuple]] = {
        "records_record": [
            (rid, t, n, name_key(n), json.dumps(f), 1, now, now, False)
            for rid, t, n, f in data.records
        ],
        "core_change": [
            (r[0], "record", "create", "", None, None, "bench", now, "demo") for r in data.records
        ],
        "records_contactpoint": [(rid, k, v, nm, "", p) for rid, k, v, nm, p in data.contacts],
        "relationships_relationship": [
            (
                rid,
                t,
                a,
                b,
                role,
                s.isoformat() if s else None,
                u.isoformat() if u else None,
                "",
                "demo",
                now,
            )
            for rid, t, a, b, role, s, u in data.relationships
        ],
        "interactions_interaction": [],
        "interactions_participant": [],
        "interactions_interactionlink": [],
    }
    for (iid, kind, at, subject, direction, sentiment, score), people, links in data.bundles:
        at_db = when(at)
        tables["interactions_interaction"].append(
            # INTERACTION_COLUMNS: id kind at duration subject body direction sentiment score
            # outcome external_id thread_id source meta created_at
            (
                iid,
                kind,
                at_db,
                None,
                subject,
                "",
                direction,
                sentiment,
                score,
                "",
                None,
                "",
                "demo",
                "{}",
                now,
            )
        )
        tables["interactions_participant"].extend((iid, r, role, at_db) for r, role in people)
        tables["interactions_interactionlink"].extend((iid, r, at_db) for r in links)
    return tables


def _raw_insert(path: Path, tables: dict[str, list[tuple]]) -> float:
    from kith.core.bulk import CHANGE_COLUMNS
    from kith.interactions.services import INTERACTION_COLUMNS, LINK_COLUMNS, PARTICIPANT_COLUMNS
    from kith.records.batch import CONTACT_COLUMNS, RECORD_COLUMNS
    from kith.relationships.services import RELATIONSHIP_COLUMNS

    columns = {
        "records_record": RECORD_COLUMNS,
        "core_change": CHANGE_COLUMNS,
        "records_contactpoint": CONTACT_COLUMNS,
        "relationships_relationship": RELATIONSHIP_COLUMNS,
        "interactions_interaction": INTERACTION_COLUMNS,
        "interactions_participant": PARTICIPANT_COLUMNS,
        "interactions_interactionlink": LINK_COLUMNS,
    }
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA cache_size=-65536")
    started = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    for table, rows in tables.items():
        cols = columns[table]
        sql = (
            f'INSERT INTO "{table}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
            f"VALUES ({', '.join('?' * len(cols))})"
        )
        con.executemany(sql, rows)
    con.execute("COMMIT")
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed


def _median_ms(fn, runs: int = 15) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _process_ms(argv: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str]) -> None:
    scale = "small" if "--small" in argv else "full"
    spec = SPECS[scale]
    work = Path(tempfile.mkdtemp(prefix="kith-bench-"))
    kith_db, raw_db = work / "kith.db", work / "raw.db"

    import kith

    kith.open(f"sqlite:///{kith_db}")
    from django.db import connection

    from kith.bulk.services import load, time_adapter
    from kith.demo.generator import generate

    connection.close()
    src = sqlite3.connect(kith_db)
    src.execute(f"VACUUM INTO '{raw_db}'")  # the same schema, migrated, still empty
    src.close()

    print(f"generating {scale} data set ...", flush=True)
    data = generate(spec)
    data.bundles = list(data.interactions)  # type: ignore[attr-defined]
    tables = _raw_rows(data, time_adapter())
    total_rows = sum(len(r) for r in tables.values())

    raw_s = _raw_insert(raw_db, tables)
    del tables
    started = time.perf_counter()
    counts = load(
        records=data.records,
        contacts=data.contacts,
        relationships=data.relationships,
        interactions=data.bundles,
        source="demo",
    )
    kith_s = time.perf_counter() - started
    from kith.records.models import WorkspaceSettings

    WorkspaceSettings.objects.update_or_create(pk=1, defaults={"home_org_id": data.home_id})
    ratio = kith_s / raw_s
    print(f"rows: {total_rows:,} ({counts})")
    print(f"raw sqlite3 executemany: {raw_s:7.2f} s")
    print(
        f"kith bulk load:          {kith_s:7.2f} s   ratio {ratio:.2f}x "
        f"(goal <= {GOAL_LOAD_RATIO}x) {'OK' if ratio <= GOAL_LOAD_RATIO else 'MISSED'}"
    )

    from kith.core.viewer import SYSTEM
    from kith.interactions.selectors import timeline
    from kith.records.selectors import resolve
    from kith.relationships.models import Relationship
    from kith.relationships.selectors import relations_view

    anchor = resolve(SYSTEM, data.anchor_org)
    n_rels = Relationship.objects.filter(to_record=anchor).count()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT COUNT(DISTINCT p.interaction_id) FROM relationships_relationship r "
            "JOIN interactions_participant p ON p.record_id = r.from_record_id "
            "WHERE r.to_record_id = %s",
            [anchor.id],
        )
        n_int = cur.fetchone()[0]
    rel_ms = _median_ms(lambda: relations_view(SYSTEM, anchor))
    tl_ms = _median_ms(lambda: timeline(SYSTEM, anchor, limit=50))
    home = resolve(SYSTEM, data.home_id)
    home_ms = _median_ms(lambda: timeline(SYSTEM, home, limit=50))
    print(f"anchor org {anchor.id}: {n_rels:,} relationships, {n_int:,} interactions")
    for label, ms in (
        ("relations (all)", rel_ms),
        ("timeline (50 newest)", tl_ms),
        ("home org timeline (everything)", home_ms),
    ):
        print(
            f"  {label:32s} {ms:7.1f} ms  (goal < {GOAL_QUERY_MS:.0f} ms) "
            f"{'OK' if ms < GOAL_QUERY_MS else 'MISSED'}"
        )
    connection.close()

    kith_bin = str(Path(sys.executable).parent / "kith")
    py_ms = _process_ms([sys.executable, "-c", "pass"])
    show_ms = _process_ms([kith_bin, "--db", f"sqlite:///{kith_db}", "show", anchor.id])
    print(
        f"`kith show` whole process: {show_ms:.0f} ms (goal < {GOAL_SHOW_MS:.0f} ms) "
        f"{'OK' if show_ms < GOAL_SHOW_MS else 'MISSED'}; bare python start {py_ms:.0f} ms, "
        f"ratio {show_ms / py_ms:.1f}x"
    )

    cached = out_dir() / f"{scale}.db"
    for suffix in ("", "-wal", "-shm", ".spec"):
        Path(f"{cached}{suffix}").unlink(missing_ok=True)
    shutil.move(str(kith_db), cached)
    for suffix in ("-wal", "-shm"):
        if Path(f"{kith_db}{suffix}").exists():
            shutil.move(f"{kith_db}{suffix}", f"{cached}{suffix}")
    cached.with_suffix(".spec").write_text(spec_key(spec))
    shutil.rmtree(work, ignore_errors=True)
