"""Import benchmark: a 200,000-row Google Contacts CSV and a 100,000-message mbox.

Each is imported by ``kith import`` in a subprocess (fresh SQLite workspace) so peak memory
(VmHWM, see benchmarks.memory) is the import's own. The CSV's baseline is raw ``sqlite3``
executemany inserts of the rows the import produced (records, contact points,
relationships, history) into the same schema, measured in the same run.
The mbox's baseline is the same for the interactions, participants, people, organisations,
relationships and history rows its import wrote.
After the CSV, ``--updates N`` of its people (default 10,000) are imported again with a
new phone and a note each: matched, and updated in place. Every import prints how many SQL
statements it ran (an ``executemany`` counts once) beside its rows/s.
Options: ``--rows N``, ``--messages N``, ``--updates N`` (also ``--rows=N``),
``--only csv|mbox``.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.memory import PEAK_MB_SOURCE

ROOT = Path(__file__).resolve().parents[1]
KITH = str(ROOT / ".venv" / "bin" / "kith")
FIRST = ["Ana", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea"]
LAST = ["Lopez", "Smith", "Young", "Ng", "Okafor", "Rossi", "Meyer", "Tanaka", "Silva", "Kim"]
HEADER = (
    "First Name,Middle Name,Last Name,Organization Name,Organization Title,Birthday,Notes,"
    "E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,"
    "Phone 1 - Label,Phone 1 - Value\n"
)


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            org = f"Company {i % (rows // 20 or 1)}"
            phone = f"+1 415 {200 + i // 10000:03d} {i % 10000:04d}"
            fh.write(
                f"{first},,{last} {i},{org},Role {i % 7},,,* Work,{first.lower()}.{i}@c{i % 5000}"
                f".example,Home,{first.lower()}{i}@gmail.com,Mobile,{phone}\n"
            )


def write_updates(path: Path, rows: int, updates: int) -> None:
    """The first ``updates`` people of ``write_csv(rows)`` again: a new phone and a note."""
    rng = random.Random(7)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(min(rows, updates)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            org = f"Company {i % (rows // 20 or 1)}"
            fh.write(
                f"{first},,{last} {i},{org},Role {i % 7},,met at the fair {i},* Work,"
                f"{first.lower()}.{i}@c{i % 5000}.example,,,Mobile,+1 212 555 {i % 10000:04d}\n"
            )


def write_mbox(path: Path, messages: int) -> None:
    rng = random.Random(11)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(messages):
            a, b = rng.randrange(20_000), rng.randrange(20_000)
            ours = i % 2 == 0
            sender = f"me{a % 50}@our.example" if ours else f"p{a}@d{a % 3000}.example"
            to = f"p{b}@d{b % 3000}.example" if ours else f"me{b % 50}@our.example"
            root = f"<t{i // 4}@x.example>"
            refs = f"References: {root}\nIn-Reply-To: {root}\n" if i % 4 else ""
            mid = root if i % 4 == 0 else f"<m{i}@x.example>"
            clock = f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
            fh.write(
                f"From {sender} Mon Jan  1 00:00:00 2024\nFrom: P {a} <{sender}>\nTo: {to}\n"
                f"Cc: c{b}@gmail.com\nSubject: Message {i}\n"
                f"Date: Mon, 1 Jan 2024 {clock} +0000\n"
                f"Message-ID: {mid}\n{refs}\nHello {i}\n\n"
            )


# counts the SQL statements of the import (each connection Django opens counts them)
COUNT_QUERIES = (
    "from django.db.backends.signals import connection_created\n"
    "QUERIES = [0]\n"
    "def _count(execute, sql, params, many, context):\n"
    "    QUERIES[0] += 1\n"
    "    return execute(sql, params, many, context)\n"
    "def _hook(sender, connection, **kw):\n"
    "    connection.execute_wrappers.append(_count)\n"
    "connection_created.connect(_hook)\n"
)


def run_import(
    db: Path, file: Path, *extra: str, init: bool = True
) -> tuple[float, float, dict[str, object], int]:
    """Import in a subprocess; returns (seconds, peak MB, report, SQL statements)."""
    code = (
        PEAK_MB_SOURCE
        + COUNT_QUERIES
        + (
            "import sys, time\n"
            "from kith.cli.main import run\n"
            "t = time.perf_counter(); rc = run(sys.argv[1:]); dt = time.perf_counter() - t\n"
            "sys.stderr.write(f'\\nTIME {dt} PEAK_MB {peak_mb()} QUERIES {QUERIES[0]}\\n')\n"
            "sys.exit(rc)\n"
        )
    )
    env = {**os.environ, "KITH_DB": f"sqlite:///{db}"}
    if init:
        subprocess.run([KITH, "init", "--home", "Our", "--domain", "our.example"], env=env,
                       check=True, capture_output=True)  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", code, "import", str(file), "--json", *extra],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"import failed: {proc.stderr[-2000:]}")
    tail = proc.stderr.strip().splitlines()[-1].split()
    return float(tail[1]), float(tail[3]), json.loads(proc.stdout), int(tail[5])


CSV_TABLES = ["records_record", "records_contactpoint", "relationships_relationship",
              "core_change"]  # fmt: skip
MBOX_TABLES = [*CSV_TABLES, "interactions_interaction", "interactions_participant"]


def raw_baseline(db: Path, tables: list[str] = CSV_TABLES) -> tuple[float, int]:
    """Time raw executemany of the imported rows into an empty copy of the schema."""
    src = sqlite3.connect(db)
    data = {t: src.execute(f"SELECT * FROM {t}").fetchall() for t in tables}
    # tables and their indexes: the baseline maintains the same indexes the import does
    schema = [
        r[0]
        for r in src.execute(
            "SELECT sql FROM sqlite_master WHERE type IN ('table', 'index') AND sql NOT NULL "
            "ORDER BY type = 'index'"
        )
    ]
    src.close()
    target = db.with_name(db.stem + "-raw.db")
    dst = sqlite3.connect(target)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=NORMAL")
    for sql in schema:
        if "sqlite_sequence" not in sql:
            dst.execute(sql)
    dst.commit()
    t0 = time.perf_counter()
    n = 0
    with dst:
        for t in tables:
            rows = data[t]
            if rows:
                marks = ",".join("?" * len(rows[0]))
                dst.executemany(f"INSERT INTO {t} VALUES ({marks})", rows)
                n += len(rows)
    elapsed = time.perf_counter() - t0
    dst.close()
    return elapsed, n


def main(argv: list[str]) -> None:
    rows, messages, updates, only = 200_000, 100_000, 10_000, ""
    args = [part for arg in argv for part in arg.split("=", 1)]
    for flag, value in itertools.pairwise(args):
        if flag == "--rows":
            rows = int(value)
        elif flag == "--messages":
            messages = int(value)
        elif flag == "--updates":
            updates = int(value)
        elif flag == "--only":
            only = value
    with tempfile.TemporaryDirectory(prefix="kith-bench-import-") as tmp:
        folder = Path(tmp)
        csv_file, mbox_file = folder / "google.csv", folder / "box.mbox"
        if only != "mbox":
            write_csv(csv_file, rows)
            bench_csv(folder / "csv.db", csv_file, rows)
            if updates:
                update_file = folder / "updates.csv"
                write_updates(update_file, rows, updates)
                bench_updates(folder / "csv.db", update_file, min(rows, updates))
        if only != "csv":
            write_mbox(mbox_file, messages)
            bench_mbox(folder / "mbox.db", mbox_file, messages)


def bench_csv(db: Path, csv_file: Path, rows: int) -> None:
    secs, peak, report, queries = run_import(db, csv_file, "--format", "google")
    raw_secs, raw_rows = raw_baseline(db)
    print(
        f"csv  {rows:,} rows: {secs:.1f} s, {rows / secs:,.0f} rows/s, {queries:,} queries "
        f"({queries / rows:.2f}/row), peak {peak:,.0f} MB"
    )
    print(f"     counts {report['counts']}")
    print(
        f"     raw sqlite3 executemany of the same {raw_rows:,} rows: {raw_secs:.2f} s; "
        f"ratio {secs / raw_secs:.1f}x (goal <= 5x)"
    )


def bench_updates(db: Path, update_file: Path, rows: int) -> None:
    secs, peak, report, queries = run_import(db, update_file, "--format", "google", init=False)
    print(
        f"csv  {rows:,} rows updating existing people: {secs:.1f} s, {rows / secs:,.0f} rows/s, "
        f"{queries:,} queries ({queries / rows:.2f}/row, goal: a few), peak {peak:,.0f} MB"
    )
    print(f"     counts {report['counts']}")


def bench_mbox(db: Path, mbox_file: Path, messages: int) -> None:
    secs, peak, report, queries = run_import(db, mbox_file)
    raw_secs, raw_rows = raw_baseline(db, MBOX_TABLES)
    print(
        f"mbox {messages:,} messages: {secs:.1f} s, {messages / secs:,.0f} msg/s "
        f"(goal >= 5,000), {queries:,} queries ({queries / messages:.2f}/message), "
        f"peak {peak:,.0f} MB (goal < 500)"
    )
    print(f"     counts {report['counts']}")
    print(
        f"     raw sqlite3 executemany of the same {raw_rows:,} rows: {raw_secs:.2f} s "
        f"({messages / raw_secs:,.0f} msg/s); ratio {secs / raw_secs:.1f}x"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
