"""Warm-introduction paths: bidirectional breadth-first search, then the k strongest paths.

The search grows whichever frontier is smaller until the two meet, so a 4-hop question
touches the neighbourhoods of both ends to depth 2 instead of one end to depth 4. Among
the paths of the shortest hop count, the k strongest (product of hop strengths) come from
a k-best dynamic programme over the search layers, pulled back from the meeting nodes.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from kith.network.graph import Graph

Path = tuple[float, tuple[int, ...]]


def search_layers(
    g: Graph, sources: Iterable[int], target: int, max_hops: int, blocked: set[int]
) -> tuple[int, dict[int, int], dict[int, int]] | None:
    """Hop count of the shortest path and the two distance maps; None when out of reach."""
    adj = g.adj
    ds = {s: 0 for s in sources}
    dt = {target: 0}
    if target in ds:
        return 0, ds, dt
    fs, ft = list(ds), [target]
    ls = lt = 0
    while fs and ft and ls + lt < max_hops:
        forward = sum(len(adj[u]) for u in fs) <= sum(len(adj[u]) for u in ft)
        here, there, frontier = (ds, dt, fs) if forward else (dt, ds, ft)
        depth = (ls if forward else lt) + 1
        nxt: list[int] = []
        met = False
        for u in frontier:
            for v in adj[u]:
                if v in here or v in blocked:
                    continue
                here[v] = depth
                nxt.append(v)
                if v in there:
                    met = True
        if forward:
            fs, ls = nxt, depth
        else:
            ft, lt = nxt, depth
        if met:
            return ls + lt, ds, dt
    return None


def _kbest(
    g: Graph, dist: dict[int, int], node: int, k: int, memo: dict[int, list[Path]]
) -> list[Path]:
    """The k strongest paths from a distance-0 node to ``node`` along decreasing distance."""
    found = memo.get(node)
    if found is not None:
        return found
    d = dist[node]
    if d == 0:
        memo[node] = [(1.0, (node,))]
        return memo[node]
    candidates: list[Path] = []
    for u in g.adj[node]:
        if dist.get(u) != d - 1:
            continue
        w = g.strength(u, node) / 100.0
        for s, path in _kbest(g, dist, u, k, memo):
            candidates.append((s * w, (*path, node)))
    memo[node] = heapq.nlargest(k, candidates, key=lambda p: (p[0], [-x for x in p[1]]))
    return memo[node]


def strongest_paths(
    g: Graph, sources: Iterable[int], target: int, *, max_hops: int, k: int, blocked: set[int]
) -> list[Path]:
    """The k strongest shortest paths from any source to ``target`` (strongest first)."""
    found = search_layers(g, sources, target, max_hops, blocked)
    if found is None:
        return []
    hops, ds, dt = found
    if hops == 0:
        return [(1.0, (target,))]
    meet = [v for v in ds if v in dt and ds[v] + dt[v] == hops]
    pre: dict[int, list[Path]] = {}
    post: dict[int, list[Path]] = {}
    seen: set[tuple[int, ...]] = set()
    results: list[Path] = []
    for v in meet:
        for s1, p1 in _kbest(g, ds, v, k, pre):
            for s2, p2 in _kbest(g, dt, v, k, post):
                path = p1 + tuple(reversed(p2))[1:]
                if path not in seen:
                    seen.add(path)
                    results.append((s1 * s2, path))
    return heapq.nlargest(k, results, key=lambda p: (p[0], [-x for x in p[1]]))
