"""Web benchmark: server render time of every main page on the demo workspace.

Builds the ``kith demo`` workspace (1,500 people, 150 organisations, 20,000 interactions;
cached in benchmarks/out/), signs in an admin through Django's test client (the whole
middleware stack: sessions, CSRF, CSP, WhiteNoise) warms the process up (every page
once), then for each page logs a call (so every score cache is stale), times the first
request after that write and ``--rounds`` more. The baseline, in the same run,
is the sign-in page: the same stack rendering a template that reads no data. Goal: every
request under 300 ms. Usage: ``python -m benchmarks web [--rounds=7] [--workspace=full]
[--pages=home,people by health]``: ``--workspace=full`` runs on the 100,000-person benchmark
workspace (:func:`benchmarks.workspace.ensure_workspace`, built once and cached), ``--pages``
times only the pages named (comma-separated labels). The time of each write is printed too.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

GOAL_MS = 300.0


def _workspace() -> Path:
    from benchmarks.workspace import out_dir

    db = out_dir() / "web-demo.db"
    if not db.exists():
        print(f"building the demo workspace in {db} ...", flush=True)
        tmp = db.with_suffix(".tmp.db")
        tmp.unlink(missing_ok=True)
        kith = str(Path(sys.executable).parent / "kith")
        subprocess.run([kith, "--db", f"sqlite:///{tmp}", "demo"], check=True)
        tmp.rename(db)
    return db


def _full_workspace() -> Path:
    from benchmarks.workspace import ensure_workspace

    return ensure_workspace("full")


def _pages() -> list[tuple[str, str, str]]:
    """(label, path, person id) of every main page, on the busiest records of the workspace."""
    from django.db.models import Count
    from django.urls import reverse

    from kith.records.models import Record

    def busiest(type_key: str, related: str) -> str:
        row = (
            Record.objects.filter(type_id=type_key, deleted_at=None)
            .annotate(n=Count(related))
            .order_by("-n")
            .values_list("id", flat=True)
            .first()
        )
        assert row, f"no {type_key} in the demo workspace"
        return str(row)

    org = busiest("organization", "linked_interactions")
    person = busiest("person", "participations")
    name = Record.objects.get(pk=person).name.split()[0]
    pages = [
        ("home", reverse("home")),
        ("search", reverse("search") + f"?q={name} htmx"),
        ("people list", reverse("people")),
        ("organisations list", reverse("orgs")),
        ("people by health", reverse("people") + "?sort=-health"),
        ("people band good", reverse("people") + "?band=good"),
        ("orgs by health", reverse("orgs") + "?sort=-health"),
        ("organisation page", reverse("record", args=[org])),
        ("person page", reverse("record", args=[person])),
        ("person health+trend", reverse("record-health", args=[person]) + " htmx"),
        ("person timeline more", reverse("record-timeline", args=[person]) + " htmx"),
        ("person map", reverse("record-map", args=[person])),
        ("person map.json", reverse("record-map-json", args=[person]) + "?depth=2"),
        ("import", reverse("import")),
        ("duplicates", reverse("duplicates")),
        ("admin", reverse("admin-home")),
    ]
    return [(label, path, person) for label, path in pages]


def _kept_scores() -> None:
    """What the worker does once a day (and after a bulk load): make the kept scores today's."""
    from kith.intelligence.kept_selectors import is_current
    from kith.intelligence.kept_services import rescore

    if is_current():
        print("kept scores: current")
        return
    t = time.perf_counter()
    done = rescore()
    took = time.perf_counter() - t
    print(f"kept scores: rescored {done['people']} people, {done['organizations']} organisations")
    print(f"  in {took:.1f} s (the worker's daily run)")


def _write(person: str, n: int) -> float:
    """A call logged between our team and ``person``: every score cache is now stale."""
    from kith.interactions.services import log_interaction
    from kith.relationships.selectors import team_ids

    member = team_ids()[0]
    t = time.perf_counter()
    log_interaction(
        kind="call", participants=[(member, "from"), (person, "to")], subject=f"bench {n}"
    )
    return (time.perf_counter() - t) * 1000


def _time(client: Any, path: str, rounds: int) -> tuple[float, list[float]]:
    """The first request's time and the times of ``rounds`` more."""
    headers = {}
    if path.endswith(" htmx"):
        path, headers = path.removesuffix(" htmx"), {"HTTP_HX_REQUEST": "true"}
    times = []
    for _ in range(rounds + 1):
        t = time.perf_counter()
        resp = client.get(path, **headers)
        times.append((time.perf_counter() - t) * 1000)
        assert resp.status_code == 200, f"{path}: {resp.status_code}"
    return times[0], times[1:]


def main(argv: list[str]) -> None:
    rounds, workspace, only = 7, "demo", ""
    for arg in argv:
        if arg.startswith("--rounds="):
            rounds = int(arg.split("=", 1)[1])
        elif arg.startswith("--workspace="):
            workspace = arg.split("=", 1)[1]
        elif arg.startswith("--pages="):
            only = arg.split("=", 1)[1]
    if workspace not in ("demo", "full"):
        raise SystemExit(f"--workspace: {workspace!r} is not demo or full")
    db = _workspace() if workspace == "demo" else _full_workspace()
    print(f"workspace: {workspace} ({db})")
    from kith.server.serve import configure

    configure(f"sqlite:///{db}")
    from django.test import Client

    from kith.accounts.selectors import get_user
    from kith.accounts.services import reset_demo_admin

    _kept_scores()
    email, _ = reset_demo_admin(email="bench@kith.local")
    client = Client(HTTP_HOST="127.0.0.1")  # the host names Kith answers to by default
    client.force_login(get_user(email))
    base = statistics.median(_time(Client(HTTP_HOST="127.0.0.1"), "/login", rounds)[1])
    print(f"baseline: sign-in page (no data) median {base:.1f} ms")
    pages = _pages()
    if only:
        wanted = {w.strip() for w in only.split(",")}
        unknown = wanted - {label for label, _, _ in pages}
        if unknown:
            raise SystemExit(f"--pages: {sorted(unknown)[0]!r} is not a page of this benchmark")
        pages = [p for p in pages if p[0] in wanted]
    t = time.perf_counter()
    for _, path, _ in pages:  # a new process: imports, template compilation, caches
        _time(client, path, 0)
    print(f"process warm-up (every page once): {(time.perf_counter() - t) * 1000:.0f} ms")
    print("'after write': the first request after a call was logged (score caches stale)")
    head = f"{'page':<22} {'write ms':>8} {'after write':>11} {'median ms':>10} {'max ms':>8}"
    head += f" {'x baseline':>11}"
    print(f"{head}  goal < {GOAL_MS:.0f} ms")
    worst = 0.0
    person = pages[0][2]
    for n, (label, path, _) in enumerate(pages):
        wrote = _write(person, n)
        first, times = _time(client, path, rounds)
        med, top = statistics.median(times), max([first, *times])
        worst = max(worst, top)
        mark = "ok" if top < GOAL_MS else "SLOW"
        print(
            f"{label:<22} {wrote:>8.1f} {first:>11.1f} {med:>10.1f} {top:>8.1f}"
            f" {med / base:>10.1f}x  {mark}",
            flush=True,
        )
    print(f"slowest request: {worst:.1f} ms; goal {'met' if worst < GOAL_MS else 'MISSED'}")
