"""SQLite -> PostgreSQL -> SQLite through real `kith backup` / `kith restore` processes."""

from __future__ import annotations

import gzip
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_SERVER = os.environ.get("KITH_TEST_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
KITH = [sys.executable, "-m", "kith"]

BUILD = """
import sys, kith
kith.open(sys.argv[1])
from kith.backup.tests.test_backup import _workspace
from kith.testing import make_person
from kith.dedupe.services import merge_records, unmerge
_workspace()
a, b = make_person("Zoe Twin", email="zoe@x.test"), make_person("Zoe Twin", email="z@x.test")
m = merge_records(keep=a.id, other=b.id)
unmerge(ref=m["id"])
"""


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KITH_HOME": str(home), "KITH_DB": ""}
    return subprocess.run([*KITH, *args], capture_output=True, text=True, env=env, timeout=180)


@pytest.fixture
def pg_url() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    name = f"kith_backup_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True)
    except psycopg.OperationalError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no PostgreSQL server at {PG_SERVER}, and CI requires it")
        pytest.skip(f"no PostgreSQL server at {PG_SERVER}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def tables(path: Path) -> dict[str, list[str]]:
    """Every table's rows (as canonical JSON, sorted), so files from two engines compare."""
    out: dict[str, list[str]] = {}
    current = ""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            item = json.loads(line)
            if isinstance(item, dict) and "table" in item:
                current = item["table"]
                out[current] = []
            elif isinstance(item, list):
                out[current].append(json.dumps(item, sort_keys=True, ensure_ascii=False))
    return {k: sorted(v) for k, v in out.items()}


@pytest.mark.slow
def test_sqlite_to_postgresql_and_back_loses_and_changes_nothing(
    tmp_path: Path, pg_url: str
) -> None:
    home = tmp_path / "home"
    first = f"sqlite:///{tmp_path / 'first.db'}"
    last = f"sqlite:///{tmp_path / 'last.db'}"
    env = {**os.environ, "KITH_HOME": str(home), "KITH_DB": ""}
    subprocess.run([sys.executable, "-c", BUILD, first], check=True, env=env, timeout=180)
    a, b, c = tmp_path / "a.kith.gz", tmp_path / "b.kith.gz", tmp_path / "c.kith.gz"

    made = run("--db", first, "backup", str(a), "--json", home=home)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["tables"]["core.change"] > 20
    into_pg = run("--db", pg_url, "restore", str(a), "--json", home=home)
    assert into_pg.returncode == 0, into_pg.stderr
    assert run("--db", pg_url, "backup", "create", str(b), home=home).returncode == 0
    back = run("--db", last, "backup", "restore", str(b), home=home)
    assert back.returncode == 0, back.stderr
    assert run("--db", last, "backup", str(c), home=home).returncode == 0

    original = tables(a)
    assert original["records.record"] and original["interactions.participant"]
    assert original["dedupe.merge"] and original["records.fielddef"]
    assert tables(b) == original
    assert tables(c) == original
    # the restored workspace works: reads and writes as before
    shown = run("--db", last, "show", "jane@acme.test", "--json", home=home)
    assert shown.returncode == 0 and json.loads(shown.stdout)["fields"]["vip"] is True
    added = run("--db", pg_url, "person", "add", "New One", "--email", "n@x.test", home=home)
    assert added.returncode == 0, added.stderr
    again = run("--db", pg_url, "restore", str(a), home=home)
    assert again.returncode == 1 and "not empty" in again.stderr
