"""Warm introductions for many people at once: ``kith next`` suggests, for every stakeholder
nobody on our team has had two-way contact with, the strongest introduction path from our
team, ranked as ``kith path`` ranks (kith.network.paths: the product of the hops' tie
strengths, each hop after the first penalised). ``kith path`` searches for one person;
here one best-first search over the network graph (kith.network.graph) answers for all of
them, so suggestions for a whole team cost one search, not one per person.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections.abc import Iterable
from typing import Any

from kith.core import clock
from kith.core.viewer import Viewer
from kith.intelligence import aggregates as agg
from kith.network.graph import Graph, get_graph
from kith.network.paths import HOP_PENALTY
from kith.records.selectors import hidden_records
from kith.relationships.selectors import team_ids

Ranked = tuple[float, float, tuple[int, ...]]  # (score, strength product, nodes)


def best_paths_to_many(
    g: Graph,
    sources: Iterable[int],
    targets: Iterable[int],
    *,
    max_hops: int,
    blocked: set[int],
    penalty: float = HOP_PENALTY,
) -> dict[int, Ranked]:
    """For each target, its best path from any source (``ranked_paths``' score and rules,
    k=1), in one search for all of them: best-first over (node, hops) from the sources, the
    last hop landing only on a target, never through a second source or a blocked node. A
    target popped is at its best score (every hop multiplies it by a factor <= 1), so the
    search stops once every target is found or nothing is left. Removing a cycle only
    raises a score, so the best paths are simple; a target out of reach is left out."""
    start = [s for s in dict.fromkeys(sources) if s not in blocked]
    starts = set(start)
    want = {t for t in targets if t not in blocked}
    out: dict[int, Ranked] = {t: (1.0, 1.0, (t,)) for t in want & starts}
    adj, wadj = g.adj, g.wadj
    best: dict[tuple[int, int], float] = {}
    back: dict[tuple[int, int], tuple[int, float]] = {}  # (node, hops) -> (previous, product)
    heap: list[tuple[float, int, int]] = []
    for s in start:
        best[(s, 0)] = 1.0
        back[(s, 0)] = (-1, 1.0)
        heap.append((-1.0, 0, s))
    heapq.heapify(heap)
    while heap and len(out) < len(want):
        neg, hops, u = heapq.heappop(heap)
        if -neg < best.get((u, hops), 0.0):
            continue  # a better way to (u, hops) was queued after this one
        if u in want and u not in out:
            nodes, h, v = [u], hops, u
            while h > 0:
                v = back[(v, h)][0]
                h -= 1
                nodes.append(v)
            out[u] = (-neg, back[(u, hops)][1], tuple(reversed(nodes)))
        if hops >= max_hops:
            continue
        last = hops + 1 == max_hops
        factor = -neg * (penalty if hops >= 1 else 1.0)
        product = back[(u, hops)][1]
        for v, w in zip(adj[u], wadj[u], strict=True):
            if (last and v not in want) or v in blocked or v in starts:
                continue
            score = factor * w
            if score <= 0 or score <= best.get((v, hops + 1), 0.0):
                continue
            best[(v, hops + 1)] = score
            back[(v, hops + 1)] = (u, product * w)
            heapq.heappush(heap, (-score, hops + 1, v))
    return out


def intro_paths(
    viewer: Viewer, targets: list[str], *, max_hops: int = 3, as_of: dt.date | None = None
) -> dict[str, dict[str, Any]]:
    """The strongest warm-introduction path from our team to each of many records, through
    records ``viewer`` may see only: record id -> {score, strength, hops, steps} in ``kith
    path``'s shape; a record out of reach, hidden, on our team or not in the network is
    left out."""
    day = as_of or clock.today()
    g = get_graph(day)
    hidden: set[int] = set()
    if not viewer.sees_everything:
        ids = hidden_records(viewer).values_list("id", flat=True)
        hidden = {g.index[r] for r in ids.iterator(chunk_size=5000) if r in g.index}
    team = set(team_ids(day))
    wanted = {g.index[t] for t in targets if t in g.index and t not in team} - hidden
    if not wanted:
        return {}
    sources = [g.index[m] for m in sorted(team) if m in g.index and g.index[m] not in hidden]
    blocked = ({g.home} if g.home is not None else set()) | hidden
    found = best_paths_to_many(g, sources, wanted, max_hops=max_hops, blocked=blocked)
    names = agg.names({g.ids[i] for _, _, p in found.values() for i in p})

    def node(i: int) -> dict[str, str]:
        return {"id": g.ids[i], "name": names.get(g.ids[i], g.ids[i]), "type": g.types[i]}

    out: dict[str, dict[str, Any]] = {}
    for t, (score, strength, nodes) in found.items():
        steps = [
            {
                "from": node(u),
                "to": node(v),
                "type": g.edge(u, v).type,
                "label": g.label(u, v),
                "strength": round(g.strength(u, v), 1),
            }
            for u, v in itertools.pairwise(nodes)
        ]
        out[g.ids[t]] = {
            "score": round(100 * score, 2),
            "strength": round(100 * strength, 2),
            "hops": len(steps),
            "steps": steps,
        }
    return out
