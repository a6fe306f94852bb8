"""Reads of the network: introduction paths, mutual connections, ego maps, org charts,
connectors. Everything is as of a day (default today): ended ties carry nothing today."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections import defaultdict
from typing import Any

from kith.core import clock
from kith.core.errors import NotFound, ValidationError
from kith.core.viewer import Viewer
from kith.intelligence import aggregates as agg
from kith.intelligence import sql as q
from kith.intelligence.attention import memo
from kith.network.graph import Graph, get_graph
from kith.network.paths import RANKING, ranked_paths
from kith.records.models import Record
from kith.records.selectors import effective_viewer, hidden_records, resolve
from kith.relationships.selectors import team_ids


def _node(g: Graph, i: int, names: dict[str, str]) -> dict[str, str]:
    rid = g.ids[i]
    return {"id": rid, "name": names.get(rid, rid), "type": g.types[i]}


def _idx(g: Graph, record: Record, field: str) -> int:
    i = g.index.get(record.id)
    if i is None:
        raise NotFound(f"{field}: {record.name!r} is not in the network", field=field)
    return i


def _hidden(g: Graph, viewer: Viewer) -> set[int]:
    """The graph's nodes ``viewer`` may not see: searches never enter or report them."""
    if viewer.sees_everything:
        return set()
    ids = hidden_records(viewer).values_list("id", flat=True)
    return {g.index[rid] for rid in ids.iterator(chunk_size=5000) if rid in g.index}


def _check_range(name: str, value: int, lo: int, hi: int) -> None:
    if not lo <= value <= hi:
        raise ValidationError(f"--{name}: {value} is outside {lo}..{hi}", field=name)


def path(
    viewer: Viewer,
    to: str,
    *,
    from_: str | None = None,
    max_hops: int = 4,
    k: int = 3,
    as_of: dt.date | None = None,
) -> dict[str, Any]:
    """The k strongest warm-introduction paths to a person or organisation, through records
    ``viewer`` may see only."""
    _check_range("max-hops", max_hops, 1, 8)
    _check_range("k", k, 1, 50)
    day = as_of or clock.today()
    target = resolve(viewer, to, field="to")
    g = get_graph(day)
    t = _idx(g, target, "to")
    hidden = _hidden(g, viewer)
    source: Record | None = None
    if from_:
        source = resolve(viewer, from_, field="from")
        if source.type_id != "person":
            raise ValidationError(f"from: {source.name!r} is not a person", field="from")
        if source.id == target.id:
            raise ValidationError("to: is the same record as --from", field="to")
        sources = [_idx(g, source, "from")]
    else:
        team = team_ids(day)
        if not team:
            raise ValidationError(
                f"from: nobody is on our team on {day.isoformat()}; pass --from", field="from"
            )
        if target.id in team:
            raise ValidationError(f"to: {target.name} is on our own team", field="to")
        sources = [g.index[m] for m in team if m in g.index and g.index[m] not in hidden]
    blocked = {g.home} if g.home is not None and g.home != t else set()
    blocked |= hidden
    found = ranked_paths(g, sources, t, max_hops=max_hops, k=k, blocked=blocked)
    names = agg.names({g.ids[i] for _, _, p in found for i in p})
    paths = []
    for score, strength, nodes in found:
        steps = [
            {
                "from": _node(g, u, names),
                "to": _node(g, v, names),
                "type": g.edge(u, v).type,
                "label": g.label(u, v),
                "strength": round(g.strength(u, v), 1),
            }
            for u, v in itertools.pairwise(nodes)
        ]
        paths.append(
            {
                "score": round(100 * score, 2),
                "strength": round(100 * strength, 2),
                "hops": len(steps),
                "steps": steps,
            }
        )
    return {
        "as_of": day.isoformat(),
        "to": {"id": target.id, "name": target.name, "type": target.type_id},
        "from": "team" if source is None else {"id": source.id, "name": source.name},
        "max_hops": max_hops,
        "ranking": RANKING,
        "paths": paths,
    }


def mutual(viewer: Viewer, a: str, b: str, *, as_of: dt.date | None = None) -> dict[str, Any]:
    """Records ``viewer`` may see that both ``a`` and ``b`` are connected to, and how."""
    day = as_of or clock.today()
    ra, rb = resolve(viewer, a, field="a"), resolve(viewer, b, field="b")
    if ra.id == rb.id:
        raise ValidationError("b: is the same record as a", field="b")
    g = get_graph(day)
    ia, ib = _idx(g, ra, "a"), _idx(g, rb, "b")
    common = sorted((set(g.adj[ia]) & set(g.adj[ib])) - _hidden(g, viewer))
    names = agg.names({g.ids[i] for i in common})
    rows: list[dict[str, Any]] = []
    for c in common:
        rows.append(
            {
                **_node(g, c, names),
                "via_a": {
                    "type": g.edge(ia, c).type,
                    "label": g.label(c, ia),
                    "strength": round(g.strength(ia, c), 1),
                },
                "via_b": {
                    "type": g.edge(ib, c).type,
                    "label": g.label(c, ib),
                    "strength": round(g.strength(ib, c), 1),
                },
            }
        )
    rows.sort(key=lambda r: (-min(r["via_a"]["strength"], r["via_b"]["strength"]), r["name"]))
    return {
        "as_of": day.isoformat(),
        "a": {"id": ra.id, "name": ra.name},
        "b": {"id": rb.id, "name": rb.name},
        "directly_connected": ib in g.adj[ia],
        "mutual": rows,
    }


def ego_map(
    viewer: Viewer, ref: str, *, depth: int = 1, as_of: dt.date | None = None, limit: int = 500
) -> dict[str, Any]:
    """The ego network of ``ref`` to ``depth`` hops (of records ``viewer`` may see): nodes,
    edges and groups by type."""
    _check_range("depth", depth, 1, 3)
    day = as_of or clock.today()
    center = resolve(viewer, ref, field="ref")
    g = get_graph(day)
    c = _idx(g, center, "ref")
    hidden = _hidden(g, viewer)
    level = {c: 0}
    frontier = [c]
    truncated = False
    for d in range(1, depth + 1):
        nxt = []
        for u in frontier:
            for v in sorted(g.adj[u], key=lambda v: -g.strength(u, v)):
                if v in level or v in hidden:
                    continue
                if len(level) >= limit:
                    truncated = True
                    break
                level[v] = d
                nxt.append(v)
        frontier = nxt
    names = agg.names({g.ids[i] for i in level})
    nodes = [{**_node(g, i, names), "depth": d} for i, d in level.items()]
    edges = []
    for u in level:
        for v in g.adj[u]:
            if v in level and u < v:
                e = g.edge(u, v)
                edges.append(
                    {
                        "source": g.ids[u],
                        "target": g.ids[v],
                        "type": e.type,
                        "label": g.label(u, v),
                        "types": e.kinds,
                        "strength": round(e.strength, 1),
                    }
                )
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v in g.adj[c]:
        if v in hidden:
            continue
        groups[g.label(c, v)].append({**_node(g, v, names), "strength": round(g.strength(c, v), 1)})
    for rows in groups.values():
        rows.sort(key=lambda r: (-r["strength"], r["name"]))
    return {
        "as_of": day.isoformat(),
        "center": {"id": center.id, "name": center.name, "type": center.type_id},
        "depth": depth,
        "groups": dict(sorted(groups.items())),
        "nodes": nodes,
        "edges": edges,
        "truncated": truncated,
    }


def orgchart(viewer: Viewer, org: str, *, as_of: dt.date | None = None) -> dict[str, Any]:
    """Who reports to whom among an organisation's people (those ``viewer`` may see) in
    force on the day."""
    day = as_of or clock.today()
    record = resolve(viewer, org, field="org")
    if record.type_id != "organization":
        raise ValidationError(f"org: {record.name!r} is not an organisation", field="org")
    staff = {p: role for p, _, role in agg.employment(day, record.id, viewer=viewer)}
    sql = f"""
        SELECT r.from_record_id, r.to_record_id FROM {q.REL} r
        WHERE r.type_key = 'reports_to' AND (r.since IS NULL OR r.since <= %s)
              AND (r.until IS NULL OR r.until > %s)
              AND r.from_record_id IN ({q.employed_sql()})
    """
    manager: dict[str, str] = {}
    for a, b in q.fetch(sql, [day, day, True, day, day, record.id]):
        if a in staff and b in staff:
            manager[a] = b
    names = agg.names(set(staff))
    reports: dict[str | None, list[str]] = defaultdict(list)
    for p in staff:
        reports[manager.get(p)].append(p)

    def tree(pid: str, seen: frozenset[str]) -> dict[str, Any]:
        kids = sorted(reports.get(pid, []), key=lambda x: names.get(x, x))
        return {
            "id": pid,
            "name": names.get(pid, pid),
            "role": staff[pid],
            "reports": [tree(k, seen | {pid}) for k in kids if k not in seen],
        }

    roots = sorted(reports.get(None, []), key=lambda x: names.get(x, x))
    return {
        "as_of": day.isoformat(),
        "org": {"id": record.id, "name": record.name},
        "people": len(staff),
        "tree": [tree(r, frozenset()) for r in roots],
    }


EXACT_MAX_NODES = 2000  # above this, betweenness is estimated from ``samples`` pivots
_connectors_flight = threading.Lock()


def connectors(
    viewer: Viewer,
    *,
    org: str | None = None,
    as_of: dt.date | None = None,
    limit: int = 20,
    samples: int = 64,
) -> dict[str, Any]:
    """People who bridge otherwise separate groups, by betweenness centrality, in the network
    of the records ``viewer`` may see.

    Exact betweenness on an organisation's people and their direct ties, or on any network
    of up to ``EXACT_MAX_NODES``; estimated from ``samples`` seeded pivot nodes (the same
    answer every time) above that. The answer is kept per data version and viewer, and one
    computation runs at a time in a process: callers asking meanwhile wait for it and share
    it, so a burst of calls (or a caller who left) costs one computation, not one each.
    """
    _check_range("limit", limit, 1, 1000)
    _check_range("samples", samples, 1, 1000)
    viewer = effective_viewer(viewer)
    day = as_of or clock.today()
    scope = resolve(viewer, org, field="org").id if org else ""
    who = "all" if viewer.sees_everything else f"user {viewer.user_id}"
    name = f"connectors {who} {scope} {day} {limit} {samples}"
    with _connectors_flight:
        found = memo(name, lambda: _connectors(viewer, org, day, limit, samples))
    return {**found, "connectors": [dict(c) for c in found["connectors"]]}


def _connectors(
    viewer: Viewer, org: str | None, day: dt.date, limit: int, samples: int
) -> dict[str, Any]:
    import networkx as nx  # noqa: PLC0415 - networkx costs 540 ms to import

    g = get_graph(day)
    blocked = {g.home} if g.home is not None else set()
    blocked |= _hidden(g, viewer)
    if org:
        record = resolve(viewer, org, field="org")
        if record.type_id != "organization":
            raise ValidationError(f"org: {record.name!r} is not an organisation", field="org")
        employed = agg.employment(day, record.id, viewer=viewer)
        core = {g.index[p] for p, _, _ in employed if p in g.index}
        keep = set(core)
        for u in core:
            keep.update(v for v in g.adj[u] if g.types[v] == "person")
        keep -= blocked
        keep.discard(g.index.get(record.id, -1))
    else:
        keep = set(range(len(g.ids))) - blocked
    graph = nx.Graph()
    graph.add_nodes_from(keep)
    graph.add_edges_from((u, v) for u in keep for v in g.adj[u] if u < v and v in keep)
    n = graph.number_of_nodes()
    k = None if org or n <= EXACT_MAX_NODES else min(samples, n)
    scores = nx.betweenness_centrality(graph, k=k, seed=0, normalized=True)

    ours = {g.index[m] for m in team_ids(day) if m in g.index}  # bridges of our own: not news
    people = [
        (s, i) for i, s in scores.items() if g.types[i] == "person" and s > 0 and i not in ours
    ]
    people.sort(key=lambda x: (-x[0], g.ids[x[1]]))
    top = people[:limit]
    names = agg.names({g.ids[i] for _, i in top})
    return {
        "as_of": day.isoformat(),
        "scope": org or "workspace",
        "measure": "betweenness" + (f" (estimated from {k} pivots)" if k else ""),
        "connectors": [
            {**_node(g, i, names), "betweenness": round(s, 5), "degree": len(g.adj[i])}
            for s, i in top
        ],
    }
