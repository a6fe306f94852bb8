"""Building a benchmark workspace: the bulk loader against raw inserts of the same rows.

Builds the workspace of ``--scale`` (``xl``: 1,000,000 people, 100,000 organisations,
3,000,000 relationships, 10,000,000 interactions; ``--fraction 0.1`` for a tenth) with the
streaming generator and ``kith.bulk`` in a child process, recording its time and peak
memory (VmHWM, :mod:`benchmarks.memory`). The baseline, in the same run: raw
``executemany`` of the very rows the build wrote (read back table by table, in the order
they were written, 20,000 at a time; only the inserts and the commit are timed) into an
empty copy of the same migrated schema, with the same connection settings, in one
transaction. On SQLite the result becomes the cached workspace (``benchmarks/out``);
``--pg URL`` builds into that PostgreSQL database instead (dropped and recreated; the
baseline goes to ``<name>_raw``, a copy of the empty schema made before the load).

Usage: ``python -m benchmarks build --scale=xl --fraction=0.1 [--pg=postgresql://...]``.
Goals: ratio <= 3x, peak < 1,500 MB.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.workspace import (
    build,
    locked,
    migrate,
    name_of,
    out_dir,
    remove,
    spec_for,
    spec_key,
)

GOAL_RATIO = 3.0
GOAL_PEAK_MB = 1_500.0
CHUNK = 20_000
# what Kith's SQLite connections set (kith.conf); the baseline's connection sets the same
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-65536",
)


def _opt(argv: list[str], name: str, default: str) -> str:
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return default


def _sqlite_tables(built: sqlite3.Connection, empty: sqlite3.Connection) -> list[str]:
    """Tables the build filled: empty before it, not after. Full-text tables (virtual, and
    their shadow tables) are left out: the baseline's triggers, if any, fill them."""
    rows = built.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [n for n, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL")]
    out = []
    for name, _ in rows:
        if name.startswith("sqlite_") or any(name.startswith(v) for v in virtual):
            continue
        if empty.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone():
            continue
        if built.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone():
            out.append(name)
    return out


def _chunks(cur: Any) -> Iterator[list[tuple[Any, ...]]]:
    while rows := cur.fetchmany(CHUNK):
        yield rows


def raw_sqlite(built_path: Path, raw_path: Path) -> tuple[float, int, list[str]]:
    """Insert the built workspace's rows into ``raw_path`` (the empty schema); returns
    (seconds of inserts and commit, rows, tables)."""
    built = sqlite3.connect(f"file:{built_path}?mode=ro", uri=True)
    dst = sqlite3.connect(raw_path, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        dst.execute(pragma)
    tables = _sqlite_tables(built, dst)
    elapsed, n = 0.0, 0
    started = time.perf_counter()
    dst.execute("BEGIN IMMEDIATE")
    elapsed += time.perf_counter() - started
    for table in tables:
        cur = built.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
        marks = ", ".join("?" * len(cur.description))
        sql = f'INSERT INTO "{table}" VALUES ({marks})'
        for rows in _chunks(cur):
            started = time.perf_counter()
            dst.executemany(sql, rows)
            elapsed += time.perf_counter() - started
            n += len(rows)
    started = time.perf_counter()
    dst.execute("COMMIT")
    elapsed += time.perf_counter() - started
    dst.close()
    built.close()
    return elapsed, n, tables


def bench_sqlite(scale: str, fraction: float) -> dict[str, Any]:
    spec = spec_for(scale, fraction)
    db = out_dir() / f"{name_of(scale, fraction)}.db"
    raw = db.with_name(db.stem + "-raw.db")
    with locked(db):
        remove(db)
        remove(raw)
        url = f"sqlite:///{db}"
        migrate(url)
        with sqlite3.connect(db) as con:  # the same schema, migrated, still empty
            con.execute(f"VACUUM INTO '{raw}'")
        con.close()
        figures = build(url, scale, fraction)
        Path(f"{db}.build.json").write_text(__import__("json").dumps(figures))
        db.with_suffix(".spec").write_text(spec_key(spec))
        print(f"kith bulk load: {figures['seconds']:,.1f} s, peak {figures['peak_mb']:,.0f} MB")
        print("raw inserts of the same rows ...", flush=True)
        raw_s, rows, tables = raw_sqlite(db, raw)
        remove(raw)
    return {**figures, "raw_seconds": raw_s, "rows": rows, "tables": tables}


def _pg_tables(built: Any, empty: Any) -> list[str]:
    names = [
        r[0]
        for r in built.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
    ]
    out = []
    for name in names:
        if empty.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone():
            continue
        if built.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone():
            out.append(name)
    return out


def raw_pg(built_url: str, raw_url: str) -> tuple[float, int, list[str]]:
    import psycopg

    elapsed, n = 0.0, 0
    with psycopg.connect(built_url) as built, psycopg.connect(raw_url) as dst:
        tables = _pg_tables(built, dst)
        dst.commit()
        for table in tables:
            cols = built.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = %s AND table_schema = 'public' ORDER BY ordinal_position",
                (table,),
            ).fetchall()
            names = ", ".join(f'"{c}"' for c, _ in cols)
            # JSON goes as its text both ways (read as Python, a list would go back an array)
            reads = ", ".join(f'"{c}"::text' if t in ("json", "jsonb") else f'"{c}"'
                              for c, t in cols)  # fmt: skip
            marks = ", ".join("%s::jsonb" if t == "jsonb" else "%s::json" if t == "json"
                              else "%s" for _, t in cols)  # fmt: skip
            sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
            with built.cursor(name=f"read_{table}") as cur:  # server side: streamed
                cur.itersize = CHUNK
                cur.execute(f'SELECT {reads} FROM "{table}" ORDER BY ctid')
                while rows := cur.fetchmany(CHUNK):
                    started = time.perf_counter()
                    with dst.cursor() as out:
                        out.executemany(sql, rows)
                    elapsed += time.perf_counter() - started
                    n += len(rows)
        started = time.perf_counter()
        dst.commit()
        elapsed += time.perf_counter() - started
    return elapsed, n, tables


def bench_pg(url: str, scale: str, fraction: float) -> dict[str, Any]:
    import psycopg

    base, _, name = url.rpartition("/")
    raw_name = f"{name}_raw"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        for db in (name, raw_name):
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    migrate(url)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{raw_name}" TEMPLATE "{name}"')
    figures = build(url, scale, fraction)
    print(f"kith bulk load: {figures['seconds']:,.1f} s, peak {figures['peak_mb']:,.0f} MB")
    print("raw inserts of the same rows ...", flush=True)
    raw_s, rows, tables = raw_pg(url, f"{base}/{raw_name}")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{raw_name}" WITH (FORCE)')
    return {**figures, "raw_seconds": raw_s, "rows": rows, "tables": tables}


def main(argv: list[str]) -> None:
    scale = _opt(argv, "--scale", "xl")
    fraction = float(_opt(argv, "--fraction", "1"))
    pg = _opt(argv, "--pg", "")
    spec = spec_for(scale, fraction)
    where = f"PostgreSQL {pg.rpartition('@')[2]}" if pg else "SQLite"
    print(
        f"building {name_of(scale, fraction)} on {where}: {spec.people:,} people, "
        f"{spec.orgs:,} organisations, {spec.relationships:,} relationships, "
        f"{spec.interactions:,} interactions; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs",
        flush=True,
    )
    result = bench_pg(pg, scale, fraction) if pg else bench_sqlite(scale, fraction)
    ratio = result["seconds"] / result["raw_seconds"]
    print(f"counts: {result['counts']}")
    print(f"rows written (every table the build filled): {result['rows']:,}")
    print(f"  tables: {', '.join(result['tables'])}")
    print(
        f"raw executemany of the same rows: {result['raw_seconds']:,.1f} s "
        f"({result['rows'] / result['raw_seconds']:,.0f} rows/s)"
    )
    print(
        f"kith build (generate + load + derived tables): {result['seconds']:,.1f} s "
        f"({result['rows'] / result['seconds']:,.0f} rows/s); ratio {ratio:.2f}x "
        f"(goal <= {GOAL_RATIO:.0f}x) {'OK' if ratio <= GOAL_RATIO else 'MISSED'}"
    )
    peak = result["peak_mb"]
    print(
        f"peak memory of the build process: {peak:,.0f} MB (goal < {GOAL_PEAK_MB:,.0f} MB) "
        f"{'OK' if peak < GOAL_PEAK_MB else 'MISSED'}"
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
