"""The search index's tables and triggers (created by migrations; checked after each migrate).

SQLite: three FTS5 tables kept by triggers on the tables they index, so every write path
(services, the bulk loader's executemany, imports, merges, restores) keeps them current:

- ``records_name_fts`` (trigram): every record's ``name_key``, rowid = the record's rowid;
- ``records_contact_fts`` (trigram): every contact point's ``normalized`` value, rowid =
  the contact point's id (emails, E.164 phones, domains, urls);
- ``records_subject_fts`` (words, without positions: a third of the work of a full
  index on a bulk load): every interaction's subject, rowid = the interaction's rowid.

A trigram index answers "contains" (``LIKE '%mar%'``) from the index and, with its
trigrams OR'ed, finds names a typo away. PostgreSQL: ``pg_trgm`` GIN indexes on the same
columns (``LIKE`` and similarity use them) and a full-text GIN index on subjects; the
database keeps them itself. When ``pg_trgm`` cannot be created (no privilege), the
migration says so and search still answers, without the index.

A migration that rebuilds one of those SQLite tables (Django copies the table to alter
it) drops its triggers: ``ensure_search_index`` (run after every migrate) puts them back
and refills what they keep.
"""

from __future__ import annotations

import sys
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

_FTS = {
    # table: (indexed table, its column, rowid expression, tokenizer)
    "records_name_fts": ("records_record", "name_key", "rowid", "tokenize='trigram'"),
    "records_contact_fts": ("records_contactpoint", "normalized", "id", "tokenize='trigram'"),
    "records_subject_fts": (
        "interactions_interaction",
        "subject",
        "rowid",
        "tokenize='unicode61 remove_diacritics 2', detail=none",
    ),
}

_PG_INDEXES = {
    "records_name_trgm": (
        "CREATE INDEX IF NOT EXISTS records_name_trgm ON records_record "
        "USING gin (name_key gin_trgm_ops)"
    ),
    "records_contact_trgm": (
        "CREATE INDEX IF NOT EXISTS records_contact_trgm ON records_contactpoint "
        "USING gin (normalized gin_trgm_ops)"
    ),
}
_PG_SUBJECT = (
    "CREATE INDEX IF NOT EXISTS records_subject_tsv ON interactions_interaction "
    "USING gin (to_tsvector('simple', subject))"
)


def _triggers(fts: str) -> list[str]:
    table, column, rowid, _ = _FTS[fts]
    return [
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {column}) VALUES (new.{rowid}, new.{column}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {column} ON {table} BEGIN "
        f"UPDATE {fts} SET {column} = new.{column} WHERE rowid = old.{rowid}; END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"DELETE FROM {fts} WHERE rowid = old.{rowid}; END",
    ]


def _sqlite_names(cur: Any, kind: str) -> set[str]:
    cur.execute("SELECT name FROM sqlite_master WHERE type = %s", [kind])
    return {row[0] for row in cur.fetchall()}


def _fill(cur: Any, fts: str) -> None:
    table, column, rowid, _ = _FTS[fts]
    cur.execute(f"DELETE FROM {fts}")
    cur.execute(f"INSERT INTO {fts}(rowid, {column}) SELECT {rowid}, {column} FROM {table}")


def has_trigram(conn: BaseDatabaseWrapper | None = None) -> bool:
    """Whether PostgreSQL has ``pg_trgm`` here (SQLite: False; its index is FTS5)."""
    conn = conn or connection
    if conn.vendor != "postgresql":
        return False
    cached = conn.__dict__.get("_kith_trgm")
    if cached is None:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            cached = cur.fetchone() is not None
        conn.__dict__["_kith_trgm"] = cached
    return bool(cached)


def _create_pg(conn: BaseDatabaseWrapper) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'records_%%'")
        present = {row[0] for row in cur.fetchall()}
        wanted = {**_PG_INDEXES, "records_subject_tsv": _PG_SUBJECT}
        if set(wanted) <= present:
            return
        if set(_PG_INDEXES) - present:
            try:
                with transaction.atomic(using=conn.alias):
                    cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except DatabaseError as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "refused"
                print(
                    "kith: search runs without its trigram index: the PostgreSQL extension "
                    f"pg_trgm could not be created ({reason}); a superuser can run "
                    "'CREATE EXTENSION pg_trgm' in this database, then 'kith migrate'",
                    file=sys.stderr,
                )
                wanted = {"records_subject_tsv": _PG_SUBJECT}
        for name, sql in wanted.items():
            if name not in present:
                cur.execute(sql)
    conn.__dict__.pop("_kith_trgm", None)


# What the SQLite query planner is told of the records tables while nobody has run
# ANALYZE (real statistics, once gathered, replace these): a type or a kind holds many
# rows, a name, a value or an id few. Without them it takes ``type_key = ?`` for a few rows
# and walks every person to test a search's short list of ids.
_PLANNER_HINTS = {
    "records_record": {"type_key": 100_000, "name_key": 2, "id": 1},
    "records_contactpoint": {"kind": 300_000, "normalized": 2, "record_id": 3, "id": 1},
}


def _hint_planner(cur: Any) -> None:
    cur.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
    if cur.fetchone() is None:
        cur.execute("ANALYZE records_recordtype")  # creates sqlite_stat1 (a tiny table)
    rows = []
    for table, spread in _PLANNER_HINTS.items():
        cur.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = %s", [table])
        if cur.fetchone()[0]:
            continue  # analysed: real statistics
        cur.execute(f"SELECT name FROM pragma_index_list('{table}')")
        for (index,) in cur.fetchall():
            cur.execute(f"SELECT name FROM pragma_index_info('{index}') ORDER BY seqno")
            columns = [r[0] for r in cur.fetchall()]
            if not columns or columns[0] not in spread:
                continue
            steps, rows_left = [], 1_000_000
            for column in columns:
                rows_left = min(rows_left, spread.get(column, 10))
                steps.append(str(rows_left))
            rows.append((table, index, " ".join(["1000000", *steps])))
    for row in rows:
        cur.execute("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (%s, %s, %s)", list(row))
    if rows:
        cur.execute("ANALYZE sqlite_schema")  # load them on this connection


def ensure_search_index(
    conn: BaseDatabaseWrapper | None = None, *, rebuild: bool = False
) -> list[str]:
    """Create what is missing of the index (refilling an FTS table whose triggers were
    gone); with ``rebuild``, refill every FTS table. Returns the tables refilled."""
    conn = conn or connection
    if conn.vendor == "postgresql":
        wanted = {spec[0] for spec in _FTS.values()}
        if wanted <= set(conn.introspection.table_names()):
            _create_pg(conn)
        return []
    if conn.vendor != "sqlite":
        return []
    refilled = []
    with conn.cursor() as cur:
        tables = _sqlite_names(cur, "table")
        if not {spec[0] for spec in _FTS.values()} <= tables:
            return []  # not migrated this far yet
        triggers = _sqlite_names(cur, "trigger")
        cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        made = dict(cur.fetchall())
        for fts, (_, column, _, tokenizer) in _FTS.items():
            if fts in tables and tokenizer not in (made.get(fts) or ""):
                cur.execute(f"DROP TABLE {fts}")  # made by an older definition
                tables.discard(fts)
            fresh = fts not in tables
            if fresh:
                cur.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, {tokenizer})")
            missing = {f"{fts}_ai", f"{fts}_au", f"{fts}_ad"} - triggers
            for sql in _triggers(fts):
                cur.execute(sql)
            if fresh or missing or rebuild:
                _fill(cur, fts)
                refilled.append(fts)
        _hint_planner(cur)
    return refilled


def drop_search_index(conn: BaseDatabaseWrapper | None = None) -> None:
    """Remove the index (the migration's reverse)."""
    conn = conn or connection
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            for name in [*_PG_INDEXES, "records_subject_tsv"]:
                cur.execute(f"DROP INDEX IF EXISTS {name}")
            return
        for fts in _FTS:
            for suffix in ("ai", "au", "ad"):
                cur.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            cur.execute(f"DROP TABLE IF EXISTS {fts}")
