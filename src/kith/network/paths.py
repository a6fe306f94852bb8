"""Warm-introduction paths: bidirectional breadth-first search, then the k strongest paths.

The search grows whichever frontier is smaller until the two meet, so a 4-hop question
touches the neighbourhoods of both ends to depth 2 instead of one end to depth 4. Among
the paths of the shortest hop count, the k strongest (product of hop strengths) come from
a k-best dynamic programme over the search layers, pulled back from the meeting nodes.
"""

from __future__ import annotations

from collections import defaultdict
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


def _rank(path: Path) -> tuple[float, tuple[int, ...]]:
    return (-path[0], path[1])


def _kbest(
    g: Graph,
    dist: dict[int, int],
    layers: dict[int, list[int]],
    node: int,
    k: int,
    memo: dict[int, list[Path]],
) -> list[Path]:
    """The k strongest paths from a distance-0 node to ``node`` along decreasing distance."""
    found = memo.get(node)
    if found is not None:
        return found
    want = dist[node] - 1
    if want < 0:
        memo[node] = [(1.0, (node,))]
        return memo[node]
    preds: list[tuple[int, float]] = []
    layer = layers[want]
    if len(layer) < len(g.adj[node]):  # a hub: look its predecessors up from the layer side
        n, edges = len(g.ids), g.edges
        for u in layer:
            e = edges.get(u * n + node if u < node else node * n + u)
            if e is not None:
                preds.append((u, e.strength / 100.0))
    else:
        get = dist.get
        preds = [(u, w) for u, w in zip(g.adj[node], g.wadj[node], strict=True) if get(u) == want]
    candidates: list[Path] = []
    for u, w in preds:
        for s, path in memo.get(u) or _kbest(g, dist, layers, u, k, memo):
            candidates.append((s * w, (*path, node)))
    if len(candidates) > 1:
        candidates.sort(key=_rank)
        del candidates[k:]
    memo[node] = candidates
    return candidates


def _layers(dist: dict[int, int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for node, d in dist.items():
        out[d].append(node)
    return out


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
    ls, lt = _layers(ds), _layers(dt)
    pre: dict[int, list[Path]] = {}
    post: dict[int, list[Path]] = {}
    seen: set[tuple[int, ...]] = set()
    results: list[Path] = []
    for v in meet:
        for s1, p1 in _kbest(g, ds, ls, v, k, pre):
            for s2, p2 in _kbest(g, dt, lt, v, k, post):
                path = p1 + tuple(reversed(p2))[1:]
                if path not in seen:
                    seen.add(path)
                    results.append((s1 * s2, path))
    results.sort(key=_rank)
    return results[:k]
