"""Search on the benchmark workspace: the index against the old ``LIKE '%…%'`` query.

``python -m benchmarks search [--small] [--rounds=9]`` (default: full, 100,000 people,
1,000,000 interactions). Works on a copy of the cached workspace (opening it migrates it,
which builds the search index). In one child process (Django set up once) it times, for
each term, the old query (the ``LIKE`` filter on names and contact values that search was
before the index, run through the same connection: the baseline) and the new search:
``search_records`` (the header's ranked search), ``records_page`` (a list filtered by the
term, as the API and the web's lists), and the web's search page through Django's test
client (the whole middleware stack, signed in, its templates compiled by one search
first). Cold is the first call of a term, warm the median of ``--rounds`` more.
Goal: search "mar" through the web under 50 ms.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.workspace import ensure_workspace

GOAL_MS = 50.0
TERMS = ("mar", "margret", "415 555", "example", "smith", "call")

CHILD = """
import json, statistics, sys, time, kith
t = time.perf_counter()
kith.open(sys.argv[1])
opened = time.perf_counter() - t
rounds = int(sys.argv[2])
terms = json.loads(sys.argv[3])
from django.db import connection
from django.test import Client
from kith.accounts.selectors import get_user
from kith.accounts.services import reset_demo_admin
from kith.core.viewer import SYSTEM
from kith.records.selectors import records_page, search_records

OLD = (
    "SELECT r.id FROM records_record r WHERE r.deleted_at IS NULL AND "
    "(r.name_key LIKE %s OR r.id IN (SELECT record_id FROM records_contactpoint "
    "WHERE normalized LIKE %s)) ORDER BY r.name_key, r.id LIMIT 8"
)

def timed(fn):
    times = []
    for _ in range(rounds + 1):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return {"cold": times[0], "warm": statistics.median(times[1:] or times), "n": out}

def old(term):
    def run():
        with connection.cursor() as cur:
            cur.execute(OLD, [f"%{term.lower()}%", f"%{term.lower()}%"])
            return len(cur.fetchall())
    return run

email, _ = reset_demo_admin(email="bench@kith.local")
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(get_user(email))
client.get("/login")
client.get("/search", {"q": "warm up"}, HTTP_HX_REQUEST="true")  # templates compiled
out = {"opened": opened}
for term in terms:
    first = [r.name for r in search_records(SYSTEM, term, limit=8)]
    def web(term=term):
        resp = client.get("/search", {"q": term}, HTTP_HX_REQUEST="true")
        assert resp.status_code == 200, resp.status_code
        return len(resp.content)
    out[term] = {
        "old LIKE query": timed(old(term)),
        "search_records": timed(lambda: len(search_records(SYSTEM, term, limit=8))),
        "records_page": timed(
            lambda: len(records_page(SYSTEM, type_key="person", q=term, limit=50)[0])
        ),
        "web /search": timed(web),
        "top": first[:4],
    }
print(json.dumps(out))
"""


def _run(db: Path, rounds: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, f"sqlite:///{db}", str(rounds), json.dumps(TERMS)],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise SystemExit(f"search benchmark child failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str]) -> None:
    scale = "small" if "--small" in argv else "full"
    rounds = 9
    for arg in argv:
        if arg.startswith("--rounds="):
            rounds = int(arg.split("=", 1)[1])
    source = ensure_workspace(scale)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "work.db"
        shutil.copy(source, db)
        first = _run(db, 0)  # migrate the copy: the search index is built here
        print(f"[{scale}] opening (and indexing) the copy: {first['opened']:.1f} s")
        found = _run(db, rounds)
    head = f"{'term':<10} {'what':<16} {'cold ms':>8} {'warm ms':>8} {'x old LIKE':>10}"
    print(head)
    worst = 0.0
    for term in TERMS:
        row = found[term]
        base = row["old LIKE query"]["warm"]
        for what in ("old LIKE query", "search_records", "records_page", "web /search"):
            t = row[what]
            print(
                f"{term:<10} {what:<16} {t['cold']:>8.1f} {t['warm']:>8.1f} "
                f"{t['warm'] / base:>9.2f}x"
            )
        worst = max(worst, row["web /search"]["cold"], row["web /search"]["warm"])
        print(f"{'':<10} top: {', '.join(row['top']) or '(none)'}")
    mark = "ok" if worst < GOAL_MS else "SLOW"
    print(f"slowest web search {worst:.1f} ms (goal < {GOAL_MS:.0f} ms): {mark}")
