"""Core benchmark: bulk load vs raw sqlite3, relations/timeline query time, `kith show` time.

Builds the benchmark workspace (100,000 people, 10,000 orgs, 300,000 relationships,
1,000,000 interactions; ``--small`` for a tenth) with Kith's bulk loader, and the same rows
with raw ``sqlite3`` ``executemany`` into a copy of the same schema, in the same run.
``--scale=xl`` (optionally ``--fraction=F``), or ``--cached`` with any scale, skips the load
comparison (see ``python -m benchmarks build``) and measures the queries and processes on
the cached workspace of that scale (built if missing).

A whole ``kith show`` process is compared with the floor, measured in the same run: a
minimal process that sets up Kith's Django apps (``kith.bootstrap.setup``) and runs one
query. ``kith show`` runs twice over: with its output to a pipe, and on a terminal (a pty).
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

from benchmarks.workspace import SPECS, locked, out_dir, remove, spec_key

GOAL_LOAD_RATIO = 3.0
GOAL_QUERY_MS = 100.0
GOAL_SHOW_RATIO = 1.3
# the floor: Kith's Django apps set up and one query, nothing else
FLOOR = (
    "import sys\n"
    "from kith.bootstrap import setup\n"
    "setup(sys.argv[1])\n"
    "from django.db import connection\n"
    "with connection.cursor() as cur:\n"
    "    cur.execute('SELECT id, name FROM records_record WHERE id = %s', [sys.argv[2]])\n"
    "    print(cur.fetchone())\n"
)


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


def _on_terminal(argv: list[str]) -> None:
    """Run ``argv`` with a pseudo-terminal as its stdout (what a person at a shell has)."""
    import os
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    while True:  # drain it, or a long output blocks the child
        try:
            if not os.read(master, 65536):
                break
        except OSError:  # EIO: the child closed its end
            break
    os.close(master)
    if proc.wait() != 0:
        raise SystemExit(f"{argv} failed")


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _processes_ms(
    commands: dict[str, list[str]], runs: int = 9
) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall time and median CPU time (user + system) of each command, run in turns
    (so load on the machine falls on all of them alike; CPU time is what a loaded machine
    disturbs least); ``tty:`` names run on a pseudo-terminal, the others into a pipe."""
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            cpu0, started = _children_cpu(), time.perf_counter()
            if name.startswith("tty:"):
                _on_terminal(argv)
            else:
                subprocess.run(argv, check=True, stdout=subprocess.PIPE)
            wall[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append((_children_cpu() - cpu0) * 1000)
    med = statistics.median
    return {n: med(v) for n, v in wall.items()}, {n: med(v) for n, v in cpu.items()}


def _opt(argv: list[str], name: str, default: str) -> str:
    for a in argv:
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return default


def main(argv: list[str]) -> None:
    scale = "small" if "--small" in argv else _opt(argv, "--scale", "full")
    if scale in ("full", "small") and "--cached" not in argv:
        build_and_measure(scale)
    else:
        from benchmarks.workspace import ensure_workspace

        db = ensure_workspace(scale, float(_opt(argv, "--fraction", "1")))
        figures = json.loads(Path(f"{db}.build.json").read_text())
        print(f"workspace {db.name}: {figures['counts']}")
        import kith

        kith.open(f"sqlite:///{db}")
        measure(db, figures["counts"]["anchor_org"], figures["counts"]["home"])


def build_and_measure(scale: str) -> None:
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

    measure(kith_db, data.anchor_org, data.home_id)

    cached = out_dir() / f"{scale}.db"
    with locked(cached):  # becomes the cached workspace (see benchmarks.workspace)
        remove(cached)
        shutil.move(str(kith_db), cached)
        for suffix in ("-wal", "-shm"):
            if Path(f"{kith_db}{suffix}").exists():
                shutil.move(f"{kith_db}{suffix}", f"{cached}{suffix}")
        figures = {"counts": {**counts, "home": data.home_id, "anchor_org": data.anchor_org}}
        Path(f"{cached}.build.json").write_text(json.dumps(figures, default=str))
        cached.with_suffix(".spec").write_text(spec_key(spec))
    shutil.rmtree(work, ignore_errors=True)


def measure(db: Path, anchor_id: str, home_id: str) -> None:
    from django.db import connection

    from kith.core.viewer import SYSTEM
    from kith.interactions.selectors import timeline
    from kith.records.selectors import resolve
    from kith.relationships.models import Relationship
    from kith.relationships.selectors import relations_view

    anchor = resolve(SYSTEM, anchor_id)
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
    home = resolve(SYSTEM, home_id)
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
    url = f"sqlite:///{db}"
    show = [kith_bin, "--db", url, "show", anchor.id]
    ms, cpu = _processes_ms(
        {
            "python": [sys.executable, "-c", "pass"],
            "floor": [sys.executable, "-c", FLOOR, url, anchor.id],
            "show": show,
            "show --json": [*show, "--json"],
            "tty:show": show,
            "show home": [kith_bin, "--db", url, "show", home.id],
        }
    )
    floor, floor_cpu = ms["floor"], cpu["floor"]
    print(
        f"processes (median of 9, in turns; wall / CPU): bare python {ms['python']:.0f} / "
        f"{cpu['python']:.0f} ms; floor (Kith's apps set up + one query) {floor:.0f} / "
        f"{floor_cpu:.0f} ms"
    )
    for name, label in (
        ("show", "`kith show ANCHOR` into a pipe"),
        ("show --json", "`kith show ANCHOR --json`"),
        ("tty:show", "`kith show ANCHOR` on a terminal"),
        ("show home", "`kith show HOME` into a pipe"),
    ):
        ratio, cpu_ratio = ms[name] / floor, cpu[name] / floor_cpu
        print(
            f"  {label:36s} {ms[name]:6.0f} / {cpu[name]:5.0f} ms  {ratio:.2f}x / "
            f"{cpu_ratio:.2f}x the floor (goal <= {GOAL_SHOW_RATIO}x) "
            f"{'OK' if max(ratio, cpu_ratio) <= GOAL_SHOW_RATIO else 'MISSED'}"
        )
