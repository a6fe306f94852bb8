"""Network benchmark: ``kith path`` between two people 4 hops apart, warm, against networkx
answering the same question on the same graph held in memory, in the same run.

networkx baselines: (a) the same answer, i.e. every shortest path ranked by strength
(``all_shortest_paths`` then scoring, k best); (b) one shortest path only
(``bidirectional_shortest_path``), a lower bound on what any answer costs it.
Usage: ``python -m benchmarks network [--small]``.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from typing import Any

GOAL_PATH_MS = 200.0
PAIRS = 20


def worker(db: str, end: str) -> dict[str, Any]:
    import datetime as dt

    import networkx as nx

    import kith

    kith.open(f"sqlite:///{db}")
    from kith.core.viewer import SYSTEM
    from kith.intelligence.services import ensure_pairstats
    from kith.network.graph import get_graph
    from kith.network.paths import search_layers, strongest_paths
    from kith.network.selectors import path

    day = dt.date.fromisoformat(end)
    out: dict[str, Any] = {}
    t = time.perf_counter()
    ensure_pairstats()  # interaction ties come from the pair table (see bench_intelligence)
    out["pairstats_s"] = time.perf_counter() - t
    t = time.perf_counter()
    g = get_graph(day)
    out["build_s"] = time.perf_counter() - t
    out["nodes"], out["edges"] = len(g.ids), len(g.edges)
    blocked = {g.home} if g.home is not None else set()
    t = time.perf_counter()
    graph = nx.Graph()
    n = len(g.ids)
    for key, e in g.edges.items():
        u, v = divmod(key, n)
        if u not in blocked and v not in blocked:
            graph.add_edge(u, v, weight=e.strength)
    out["nx_build_s"] = time.perf_counter() - t

    rng = random.Random(4)
    people = [i for i, t in enumerate(g.types) if t == "person" and i in graph]
    pairs: list[tuple[int, int]] = []
    tries = 0
    while len(pairs) < PAIRS and tries < 5000:
        tries += 1
        a, b = rng.sample(people, 2)
        found = search_layers(g, [a], b, 4, blocked)
        if found and found[0] == 4:
            pairs.append((a, b))
    out["pairs"] = len(pairs)

    def nx_same_answer(a: int, b: int, k: int = 3) -> list[tuple[float, tuple[int, ...]]]:
        scored = []
        for p in nx.all_shortest_paths(graph, a, b):
            w = 1.0
            for x, y in itertools.pairwise(p):
                w *= graph[x][y]["weight"] / 100
            scored.append((w, tuple(p)))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return scored[:k]

    ours, selector, theirs, single, agree = [], [], [], [], 0
    for a, b in pairs:
        t = time.perf_counter()
        mine = strongest_paths(g, [a], b, max_hops=4, k=3, blocked=blocked)
        ours.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        path(SYSTEM, g.ids[b], from_=g.ids[a], max_hops=4, k=3, as_of=day)
        selector.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        ref = nx_same_answer(a, b)
        theirs.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        nx.bidirectional_shortest_path(graph, a, b)
        single.append((time.perf_counter() - t) * 1000)
        agree += int(abs(mine[0][0] - ref[0][0]) < 1e-12 and len(mine[0][1]) == len(ref[0][1]))
    out["ours_ms"] = statistics.median(ours)
    out["ours_max_ms"] = max(ours)
    out["selector_ms"] = statistics.median(selector)
    out["selector_max_ms"] = max(selector)
    out["nx_same_ms"] = statistics.median(theirs)
    out["nx_single_ms"] = statistics.median(single)
    out["agree"] = agree
    team_times = []
    for _a, b in pairs[:5]:
        t = time.perf_counter()
        path(SYSTEM, g.ids[b], max_hops=4, k=3, as_of=day)
        team_times.append((time.perf_counter() - t) * 1000)
    out["team_ms"] = statistics.median(team_times)
    out["pair_ids"] = [g.ids[pairs[0][0]], g.ids[pairs[0][1]]]
    return out


def main(argv: list[str]) -> None:
    from benchmarks.bench_intelligence import _copy
    from benchmarks.workspace import SPECS

    scale = "small" if "--small" in argv else "full"
    db = _copy(scale)
    end = SPECS[scale].end.isoformat()
    print(f"workspace: {scale} (copy at {db})", flush=True)
    code = (
        "import json, sys; from benchmarks.bench_network import worker; "
        "print(json.dumps(worker(sys.argv[1], sys.argv[2])))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(db), end],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KITH_HOME": str(db.parent)},  # caches go with the copy
    )
    import shutil

    if res.returncode:
        print(res.stderr[-3000:])
        shutil.rmtree(db.parent, ignore_errors=True)
        raise SystemExit(1)
    r = json.loads(res.stdout.strip().splitlines()[-1])
    # a fresh process, as every CLI run is: the graph comes from the file cache
    cli = [sys.executable, "-m", "kith", "--db", f"sqlite:///{db}", "path", *r["pair_ids"]]
    t = time.perf_counter()
    subprocess.run(
        [*cli, "--as-of", end, "--json"],
        capture_output=True,
        check=True,
        env={**os.environ, "KITH_HOME": str(db.parent)},
    )
    r["cli_s"] = time.perf_counter() - t
    shutil.rmtree(db.parent, ignore_errors=True)
    print(
        f"graph: {r['nodes']:,} nodes, {r['edges']:,} edges; cold build {r['build_s']:.1f} s "
        f"(after the pair table, {r['pairstats_s']:.1f} s) "
        f"(networkx graph from the same edges {r['nx_build_s']:.1f} s)"
    )
    print(f"{r['pairs']} person pairs 4 hops apart; answers agree with networkx: {r['agree']}")
    print(f"path search, warm (median / max):   {r['ours_ms']:7.2f} / {r['ours_max_ms']:.2f} ms")
    print(
        f"kith path selector (names, JSON):  {r['selector_ms']:7.2f} / "
        f"{r['selector_max_ms']:.2f} ms  goal < {GOAL_PATH_MS:.0f} ms: "
        f"{'ok' if r['selector_max_ms'] < GOAL_PATH_MS else 'MISSED'}"
    )
    print(
        f"networkx, same answer (all shortest + rank): {r['nx_same_ms']:7.2f} ms  "
        f"-> kith is x{r['nx_same_ms'] / r['ours_ms']:.1f} faster"
    )
    print(
        f"networkx, one shortest path only:   {r['nx_single_ms']:7.2f} ms  "
        f"-> ratio x{r['nx_single_ms'] / r['ours_ms']:.2f}"
    )
    print(f"from our whole team (default FROM):  {r['team_ms']:7.2f} ms")
    print(
        f"`kith path A B` in a new process (graph from the file cache): {r['cli_s']:.1f} s "
        f"(x{r['build_s'] / r['cli_s']:.1f} faster than its cold build)"
    )
