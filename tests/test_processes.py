"""The real `kith` command in fresh processes: database choice, concurrency, errors."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

KITH = [sys.executable, "-m", "kith"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*KITH, *args], capture_output=True, text=True, env=full_env, timeout=120)


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    env = {"KITH_HOME": str(tmp_path / "home")}
    return {**env, "KITH_DB": ""}


def test_database_from_flag_else_env_else_default_file(tmp_path: Path, home) -> None:  # type: ignore[no-untyped-def]
    flag_db, env_db = tmp_path / "flag.db", tmp_path / "env.db"
    assert run("--db", f"sqlite:///{flag_db}", "org", "add", "Flag Co", env=home).returncode == 0
    env = {**home, "KITH_DB": f"sqlite:///{env_db}"}
    assert run("org", "add", "Env Co", env=env).returncode == 0
    assert run("org", "add", "Default Co", env=home).returncode == 0
    names = {}
    for label, args in (("flag", ["--db", f"sqlite:///{flag_db}"]), ("env", []), ("default", [])):
        use = env if label == "env" else home
        out = run(*args, "list", "--json", env=use)
        names[label] = [r["name"] for r in json.loads(out.stdout)]
    assert names == {"flag": ["Flag Co"], "env": ["Env Co"], "default": ["Default Co"]}
    assert (Path(home["KITH_HOME"]) / "kith.db").exists()


def test_errors_are_one_line_without_traceback(tmp_path: Path, home) -> None:  # type: ignore[no-untyped-def]
    db = ["--db", f"sqlite:///{tmp_path / 'k.db'}"]
    for args in (
        ["show", "nobody"],
        ["relate", "a", "knows"],
        ["--db", "mysql://x", "list"],
        ["log", "call", "--with", "x", "--at", "2026-99-01"],
    ):
        result = run(*db, *args, env=home)
        assert result.returncode in (1, 2), args
        assert "Traceback" not in result.stderr + result.stdout
        assert result.stderr.strip()
    bad_url = run("--db", "mysql://x", "list", env=home)
    assert "unsupported database URL" in bad_url.stderr


def test_concurrent_writers_all_succeed(tmp_path: Path, home) -> None:  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path / 'busy.db'}"
    assert run("--db", db, "init", "--home", "Our Co", env=home).returncode == 0

    def add(i: int) -> int:
        return run(
            "--db", db, "person", "add", f"Person {i}", "--org", "Our Co", env=home
        ).returncode

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(add, range(12)))
    assert codes == [0] * 12
    people = json.loads(run("--db", db, "team", "--json", env=home).stdout)
    assert len(people) == 12


def test_demo_workspace_is_loaded_with_progress_and_refuses_twice(tmp_path: Path, home) -> None:  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    loaded = run(
        "--db",
        db,
        "demo",
        "--people",
        "300",
        "--orgs",
        "30",
        "--interactions",
        "2000",
        "--relationships",
        "900",
        "--end",
        "2026-11-01",
        "--json",
        env=home,
    )
    assert loaded.returncode == 0, loaded.stderr
    counts = json.loads(loaded.stdout)
    assert counts["interactions"] == 2000 and counts["relationships"] == 900
    again = run("--db", db, "demo", env=home)
    assert again.returncode == 1 and "already has records" in again.stderr
    skipped = run("--db", db, "demo", "--if-empty", env=home)
    assert skipped.returncode == 0 and "skipped" in skipped.stdout


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    base = os.environ.get("KITH_DB", "")
    if not base.startswith("postgres"):
        pytest.skip("PostgreSQL end-to-end runs in the PostgreSQL pass (KITH_DB=postgresql://...)")

    name = f"kith_e2e_{secrets.token_hex(4)}"
    admin = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgresql_workspace_from_a_fresh_database(fresh_pg_url: str, home) -> None:  # type: ignore[no-untyped-def]
    env = {**home, "KITH_DB": fresh_pg_url}
    assert run("init", "--home", "Our Co", "--domain", "our.test", env=env).returncode == 0
    assert run("person", "add", "Jane", "--email", "jane@acme.test", env=env).returncode == 0
    assert run("org", "add", "Acme", env=env).returncode == 0
    assert (
        run("relate", "Jane", "works_at", "Acme", "--since", "2024-01-01", env=env).returncode == 0
    )
    assert (
        run(
            "log",
            "meeting",
            "--with",
            "Jane",
            "--link",
            "Acme",
            "--at",
            "2026-01-01T10:00+01:00",
            env=env,
        ).returncode
        == 0
    )
    timeline = json.loads(run("timeline", "Acme", "--json", env=env).stdout)
    assert [t["at"] for t in timeline] == ["2026-01-01T09:00:00+00:00"]
