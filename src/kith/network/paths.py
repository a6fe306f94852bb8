"""Warm-introduction paths: bidirectional breadth-first search, then the k strongest paths.

The search grows whichever frontier is cheaper until the two meet, so a 4-hop question
touches the neighbourhoods of both ends to depth 2 instead of one end to depth 4. Among
the paths of the shortest hop count, the k strongest (product of hop strengths) are
found from the meeting nodes: the search keeps each node's best path strength as it goes
(an exact bound per meeting node), and k-best path lists are built only for the meeting
nodes whose bound can still win.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from kith.network.graph import Graph

Path = tuple[float, tuple[int, ...]]


@dataclass
class Side:
    dist: dict[int, int]
    layers: list[list[int]]
    best: dict[int, float]  # strength of the strongest shortest path from the start


def search_layers(
    g: Graph, sources: Iterable[int], target: int, max_hops: int, blocked: set[int]
) -> tuple[int, Side, Side] | None:
    """Hop count of the shortest path and both searches; None when out of reach.

    Each side also keeps, per node, the strength of its strongest shortest path from
    that side's start (a max-product pass done during the expansion itself).
    """
    adj, wadj = g.adj, g.wadj
    start = list(dict.fromkeys(sources))
    fwd = Side(dict.fromkeys(start, 0), [start], dict.fromkeys(start, 1.0))
    bwd = Side({target: 0}, [[target]], {target: 1.0})
    if target in fwd.dist:
        return 0, fwd, bwd
    cost = [sum(len(adj[u]) for u in start), len(adj[target])]
    while fwd.layers[-1] and bwd.layers[-1]:
        hops = len(fwd.layers) + len(bwd.layers) - 2
        if hops >= max_hops:
            return None
        side = 0 if cost[0] <= cost[1] else 1
        here, there = (fwd, bwd) if side == 0 else (bwd, fwd)
        depth = len(here.layers)
        seen, other, best = here.dist, there.dist, here.best
        nxt: list[int] = []
        met = False
        spend = 0
        for u in here.layers[-1]:
            bu = best[u]
            for v, w in zip(adj[u], wadj[u], strict=True):
                d = seen.get(v)
                if d is None:
                    if v in blocked:
                        continue
                    seen[v] = depth
                    best[v] = bu * w
                    nxt.append(v)
                    spend += len(adj[v])
                    if v in other:
                        met = True
                elif d == depth and bu * w > best[v]:
                    best[v] = bu * w
        here.layers.append(nxt)
        cost[side] = spend
        if met:
            return hops + 1, fwd, bwd
    return None


def _preds(g: Graph, side: Side, node: int) -> list[tuple[int, float]]:
    """Neighbours one step closer to the side's start, with the edge's strength / 100."""
    want = side.dist[node] - 1
    layer = side.layers[want]
    if len(layer) < len(g.adj[node]):  # a hub: look its predecessors up from the layer side
        n, edges = len(g.ids), g.edges
        out = []
        for u in layer:
            e = edges.get(u * n + node if u < node else node * n + u)
            if e is not None:
                out.append((u, e.strength / 100.0))
        return out
    get = side.dist.get
    return [(u, w) for u, w in zip(g.adj[node], g.wadj[node], strict=True) if get(u) == want]


def _rank(path: Path) -> tuple[float, tuple[int, ...]]:
    return (-path[0], path[1])


def _kbest(g: Graph, side: Side, node: int, k: int, memo: dict[int, list[Path]]) -> list[Path]:
    """The k strongest paths from the side's start to ``node``."""
    found = memo.get(node)
    if found is not None:
        return found
    if side.dist[node] == 0:
        memo[node] = [(1.0, (node,))]
        return memo[node]
    candidates: list[Path] = []
    for u, w in _preds(g, side, node):
        for s, path in memo.get(u) or _kbest(g, side, u, k, memo):
            candidates.append((s * w, (*path, node)))
    if len(candidates) > 1:
        candidates.sort(key=_rank)
        del candidates[k:]
    memo[node] = candidates
    return candidates


def strongest_paths(
    g: Graph, sources: Iterable[int], target: int, *, max_hops: int, k: int, blocked: set[int]
) -> list[Path]:
    """The k strongest shortest paths from any source to ``target`` (strongest first)."""
    found = search_layers(g, sources, target, max_hops, blocked)
    if found is None:
        return []
    hops, fwd, bwd = found
    if hops == 0:
        return [(1.0, (target,))]
    meet = [v for v in bwd.dist if v in fwd.dist and fwd.dist[v] + bwd.dist[v] == hops]
    bounds = sorted(((fwd.best[v] * bwd.best[v], v) for v in meet), key=lambda b: (-b[0], b[1]))
    pre: dict[int, list[Path]] = {}
    post: dict[int, list[Path]] = {}
    results: list[Path] = []
    seen: set[tuple[int, ...]] = set()
    for bound, v in bounds:
        if len(results) >= k and results[k - 1][0] > bound:
            break
        for s1, p1 in _kbest(g, fwd, v, k, pre):
            for s2, p2 in _kbest(g, bwd, v, k, post):
                path = p1 + tuple(reversed(p2))[1:]
                if path not in seen:
                    seen.add(path)
                    results.append((s1 * s2, path))
        results.sort(key=_rank)
        del results[k:]
    return results


# -- ranking by strength, with hop count as a penalty ---------------------------------------------

HOP_PENALTY = 0.8  # each hop after the first keeps 80% of a path's score
RANKING = (
    "strongest first: a path's score is the product of its hops' tie strengths (0-1), "
    f"times {HOP_PENALTY:g} for every hop after the first; a longer path through strong "
    "ties beats a short one through a weak tie"
)
Ranked = tuple[float, float, tuple[int, ...]]  # (score, strength product, nodes)


def _bounds(
    g: Graph, target: int, depth: int, blocked: set[int], starts: set[int], penalty: float
) -> tuple[dict[int, int], dict[int, float]]:
    """Hops from each node within ``depth`` of ``target`` (not through a blocked node or a
    source), and an upper bound of the score any continuation from it to the target can keep
    (max-product over walks, every hop penalised): the search's A* heuristic."""
    adj, wadj = g.adj, g.wadj
    dist = {target: 0}
    frontier = [target]
    for d in range(1, depth + 1):
        nxt = []
        for u in frontier:
            for v in adj[u]:
                if v not in dist and v not in blocked and v not in starts:
                    dist[v] = d
                    nxt.append(v)
        frontier = nxt
    # keep the corridor: nodes some source reaches in time to go on to the target from there
    fwd: dict[int, int] = {}
    frontier = []
    for s in starts:
        for v in adj[s]:
            near = dist.get(v)
            if near is not None and near + 1 <= depth + 1 and v not in fwd:
                fwd[v] = 1
                frontier.append(v)
    for h in range(2, depth + 1):
        nxt = []
        for u in frontier:
            for v in adj[u]:
                near = dist.get(v)
                if near is not None and h + near <= depth + 1 and v not in fwd:
                    fwd[v] = h
                    nxt.append(v)
        frontier = nxt
    dist = {v: d for v, d in dist.items() if v in fwd or v == target}
    best = {target: 1.0}
    heap = [(-1.0, target)]
    while heap:
        neg, u = heapq.heappop(heap)
        if -neg < best[u]:
            continue
        for v, w in zip(adj[u], wadj[u], strict=True):
            if v in dist:
                b = -neg * w * penalty
                if b > best.get(v, 0.0):
                    best[v] = b
                    heapq.heappush(heap, (-b, v))
    return dist, best


def ranked_paths(
    g: Graph,
    sources: Iterable[int],
    target: int,
    *,
    max_hops: int,
    k: int,
    blocked: set[int],
    penalty: float = HOP_PENALTY,
) -> list[Ranked]:
    """The k best simple paths of at most ``max_hops`` hops from any source to ``target``,
    best first: score = product of hop strengths x ``penalty`` per hop after the first
    (ties: fewer hops, then node order). No path passes through a second source.

    A* over partial paths: every hop multiplies the score by a factor <= 1, and each node
    carries an upper bound of what its continuation to the target can keep (``_bounds``), so a
    path popped at the target is better than anything still queued. The k strongest shortest
    paths give a floor first: a partial path that cannot reach the k-th of them is dropped."""
    start = [s for s in dict.fromkeys(sources) if s not in blocked]
    if target in start:
        return [(1.0, 1.0, (target,))]
    seed = strongest_paths(g, start, target, max_hops=max_hops, k=k, blocked=blocked)
    if not seed:
        return []
    scored = sorted(s * penalty ** (len(p) - 2) for s, p in seed)
    floor = scored[-k] * (1 - 1e-9) if len(scored) >= k else 0.0
    starts = set(start)
    dist, bound = _bounds(g, target, max_hops - 1, blocked, starts, penalty)
    adj, wadj = g.adj, g.wadj
    heap: list[tuple[float, int, tuple[int, ...], float, float]] = [
        (-1.0, 0, (s,), 1.0, 1.0) for s in start
    ]
    heapq.heapify(heap)
    popped: dict[tuple[int, int], int] = {}
    out: list[Ranked] = []
    while heap and len(out) < k:
        _, hops, nodes, score, product = heapq.heappop(heap)
        u = nodes[-1]
        if u == target:
            out.append((score, product, nodes))
            continue
        seen = popped.get((u, hops), 0)
        if seen >= k:  # k better paths already left u with as many hops
            continue
        popped[(u, hops)] = seen + 1
        left = max_hops - hops - 1  # hops still allowed after this one
        factor = score * (penalty if hops >= 1 else 1.0)
        for v, w in zip(adj[u], wadj[u], strict=True):
            d = dist.get(v)
            if d is None or d > left or v in nodes:
                continue
            s = factor * w
            f = s * bound.get(v, 0.0)
            if f < floor or f <= 0:
                continue
            heapq.heappush(heap, (-f, hops + 1, (*nodes, v), s, product * w))
    return out
