"""The benchmark workspaces: the data sets of the scale issues on SQLite, built once and cached.

``full``: 100,000 people, 10,000 organisations, 300,000 relationships, 1,000,000
interactions (the anchor organisation has 1,000 people). ``small``: a tenth of that.
``xl``: 1,000,000 people, 100,000 organisations, 3,000,000 relationships, 10,000,000
interactions; a ``fraction`` of it (``xl`` at 0.1 is the size of ``full``) proves the build
at a smaller size. Built by the same generator and bulk loader as ``kith demo``, streamed
(see :mod:`kith.demo.generator`); the file is cached under ``benchmarks/out/`` (or
``KITH_BENCH_DIR``) and reused while the spec is unchanged. Two benchmarks that need the
same workspace at once build it once (a lock file beside it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kith.demo.generator import Spec

ROOT = Path(__file__).resolve().parents[1]
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
    "xl": Spec(
        people=1_000_000,
        orgs=100_000,
        team=50,
        relationships=3_000_000,
        interactions=10_000_000,
        seed=1,
        end=END,
        anchor_size=1_000,
    ),
}

# the build, in a child process (Django is configured once per process, on one database):
# argv: url, scale, fraction; prints progress on stderr and a JSON summary last on stdout
BUILD = r"""
import json, sys, time
import kith
kith.open(sys.argv[1])
if len(sys.argv) > 4 and sys.argv[4] == "--migrate-only":
    raise SystemExit(0)
from benchmarks.memory import peak_mb
from benchmarks.workspace import spec_for
from kith.demo.services import load_demo
started = time.perf_counter()
done = {"rows": 0, "next": 1_000_000}
def progress(table, n):
    done["rows"] += n
    if done["rows"] >= done["next"]:
        done["next"] += 1_000_000
        print(f"  {done['rows']:>12,} rows ({table}) {time.perf_counter() - started:8.0f} s "
              f"peak {peak_mb():,.0f} MB", file=sys.stderr, flush=True)
counts = load_demo(spec=spec_for(sys.argv[2], float(sys.argv[3])), progress=progress)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "counts": counts}))
"""


def spec_for(scale: str, fraction: float = 1.0) -> Spec:
    """The spec of ``scale``, its counts times ``fraction`` (the team and the anchor kept)."""
    spec = SPECS[scale]
    if fraction == 1.0:
        return spec
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction: {fraction} is not in (0, 1]")
    return dataclasses.replace(
        spec,
        people=max(int(spec.people * fraction), spec.team + 1),
        orgs=max(int(spec.orgs * fraction), 1),
        relationships=int(spec.relationships * fraction),
        interactions=int(spec.interactions * fraction),
    )


def name_of(scale: str, fraction: float = 1.0) -> str:
    return scale if fraction == 1.0 else f"{scale}-{fraction:g}"


def out_dir() -> Path:
    path = Path(os.environ.get("KITH_BENCH_DIR", Path(__file__).parent / "out"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def spec_key(spec: Spec) -> str:
    fields = {k: str(v) for k, v in vars(spec).items()}
    return json.dumps(fields, sort_keys=True)


def child_env() -> dict[str, str]:
    """The environment of a child that imports ``benchmarks`` and ``kith`` from this tree."""
    path = os.pathsep.join([str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path.rstrip(os.pathsep)}


@contextmanager
def locked(db: Path) -> Iterator[None]:
    with open(f"{db}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def remove(db: Path) -> None:
    """Delete a cached workspace with its WAL, its spec stamp and its build figures."""
    for suffix in ("", "-wal", "-shm", ".build.json"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.with_suffix(".spec").unlink(missing_ok=True)


def migrate(url: str) -> None:
    """Create (or bring up to date) an empty workspace at ``url``, in a child process."""
    code = [sys.executable, "-c", BUILD, url, "small", "1", "--migrate-only"]
    subprocess.run(code, check=True, env=child_env())


def build(url: str, scale: str, fraction: float = 1.0, *, quiet: bool = False) -> dict:  # type: ignore[type-arg]
    """Load the data set into the (migrated, empty) workspace at ``url`` in a child process.

    Returns ``{"seconds", "peak_mb", "counts"}``: the load's own time and the child's peak
    memory (VmHWM, see :mod:`benchmarks.memory`).
    """
    proc = subprocess.run(
        [sys.executable, "-c", BUILD, url, scale, str(fraction)],
        check=True,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else None,
        text=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def ensure_workspace(scale: str = "full", fraction: float = 1.0) -> Path:
    """Return the cached benchmark workspace for ``scale``, building it if needed."""
    spec = spec_for(scale, fraction)
    db = out_dir() / f"{name_of(scale, fraction)}.db"
    stamp = db.with_suffix(".spec")
    with locked(db):
        if db.exists() and stamp.exists() and stamp.read_text() == spec_key(spec):
            return db
        remove(db)
        print(f"building the {name_of(scale, fraction)} benchmark workspace ...", flush=True)
        url = f"sqlite:///{db}"
        migrate(url)
        figures = build(url, scale, fraction)
        Path(f"{db}.build.json").write_text(json.dumps(figures))
        stamp.write_text(spec_key(spec))
    return db
