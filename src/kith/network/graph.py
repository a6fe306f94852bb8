"""A compact, time-aware adjacency cache of the whole network, built with two SQL passes.

Nodes are live records; edges are relationships in force on the as-of day (any type) and
interaction ties (two-way contact between one of our people and another person, weighted
by the pair's strength). Each undirected edge keeps its strongest reading. The cache is
keyed by day and the intelligence data version and dropped on every domain event.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from kith.intelligence import sql as q

# how much an introduction over each relationship type is worth (0-100); see MODEL.md
TYPE_STRENGTH: dict[str, float] = {
    "spouse_of": 90,
    "parent_of": 80,
    "friend_of": 70,
    "reports_to": 70,
    "colleague_of": 60,
    "board_member_of": 60,
    "advisor_to": 60,
    "works_at": 50,
    "referred": 50,
    "knows": 40,
    "investor_in": 40,
    "partner_of": 35,
    "customer_of": 35,
    "subsidiary_of": 35,
}
DEFAULT_TYPE_STRENGTH = 35.0
INTERACTED = "interacted_with"


@dataclass
class Edge:
    type: str  # relationship type key, or "interacted_with"
    label_fwd: str  # read from the lower index towards the higher one
    label_back: str
    strength: float
    role: str = ""
    kinds: list[str] = field(default_factory=list)  # every type joining the pair


@dataclass
class Graph:
    as_of: dt.date
    ids: list[str]
    index: dict[str, int]
    types: list[str]  # record type per node
    adj: list[list[int]]
    edges: dict[int, Edge]  # key lo * n + hi
    home: int | None
    wadj: list[list[float]] = field(default_factory=list)  # strength / 100, parallel to adj

    def edge(self, u: int, v: int) -> Edge:
        lo, hi = (u, v) if u < v else (v, u)
        return self.edges[lo * len(self.ids) + hi]

    def label(self, u: int, v: int) -> str:
        e = self.edge(u, v)
        return e.label_fwd if u < v else e.label_back

    def strength(self, u: int, v: int) -> float:
        return self.edge(u, v).strength


_cache: dict[tuple[dt.date, str], Graph] = {}
_lock = threading.Lock()


def invalidate(**_: Any) -> None:
    """Drop cached graphs (subscribed to every domain event that changes the network)."""
    with _lock:
        _cache.clear()


def get_graph(as_of: dt.date | None = None) -> Graph:
    """The network as it stood at the end of ``as_of`` (default today), cached."""
    from kith.intelligence.services import data_version, ensure_pairstats

    ensure_pairstats()
    day = as_of or dt.date.today()
    key = (day, data_version())
    with _lock:
        found = _cache.get(key)
    if found is not None:
        return found
    graph = build_graph(day)
    with _lock:
        if len(_cache) >= 4:
            _cache.clear()
        _cache[key] = graph
    return graph


def build_graph(day: dt.date) -> Graph:
    from kith.intelligence.aggregates import pair_rows
    from kith.intelligence.conf import model_config
    from kith.intelligence.scoring import strength_fn
    from kith.records.selectors import home_org
    from kith.relationships.selectors import team_ids

    rows = q.fetch(f"SELECT id, type_key FROM {q.REC} WHERE deleted_at IS NULL ORDER BY id", [])
    ids = [r[0] for r in rows]
    types = [r[1] for r in rows]
    index = {rid: i for i, rid in enumerate(ids)}
    n = len(ids)
    adj: list[list[int]] = [[] for _ in range(n)]
    edges: dict[int, Edge] = {}

    def add(u: int, v: int, edge: Edge) -> None:
        lo, hi = (u, v) if u < v else (v, u)
        key = lo * n + hi
        old = edges.get(key)
        if old is None:
            adj[u].append(v)
            adj[v].append(u)
            edge.kinds = [edge.type]
            edges[key] = edge
            return
        if edge.type not in old.kinds:
            old.kinds.append(edge.type)
        if edge.strength > old.strength:
            edge.kinds = old.kinds
            edges[key] = edge

    sql = f"""
        SELECT r.from_record_id, r.to_record_id, r.type_key, t.inverse, t.symmetric, r.role
        FROM {q.REL} r JOIN {q.RTYPE} t ON t.{q._q("key")} = r.type_key
        WHERE (r.since IS NULL OR r.since <= %s) AND (r.until IS NULL OR r.until > %s)
    """
    for a, b, key, inverse, symmetric, role in q.fetch(sql, [day, day]):
        u, v = index.get(a), index.get(b)
        if u is None or v is None or u == v:
            continue
        back = key if symmetric else (inverse or key)
        fwd, bwd = (key, back) if u < v else (back, key)
        add(u, v, Edge(key, fwd, bwd, TYPE_STRENGTH.get(key, DEFAULT_TYPE_STRENGTH), role or ""))
    cfg = model_config()
    team = team_ids(day)
    strength = strength_fn(cfg, day)
    for member, person, cnt, two, _, _, first, last, days, rec, depth, _ in pair_rows(
        cfg, day, team
    ):
        if not two:
            continue
        s = strength(cnt, two, q.as_date(first), q.as_date(last), days, rec or 0.0, depth or 0.0)
        u, v = index.get(member), index.get(person)
        if s <= 0 or u is None or v is None:
            continue
        add(u, v, Edge(INTERACTED, INTERACTED, INTERACTED, max(round(s, 1), 1.0)))
    wadj = [
        [edges[(u * n + v) if u < v else (v * n + u)].strength / 100.0 for v in adj[u]]
        for u in range(n)
    ]
    home = home_org()
    return Graph(day, ids, index, types, adj, edges, index.get(home.id) if home else None, wadj)
