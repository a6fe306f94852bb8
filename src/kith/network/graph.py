"""A compact, time-aware adjacency cache of the whole network, built with two SQL passes.

Nodes are live records; edges are relationships in force on the as-of day (any type) and
interaction ties (two-way contact between one of our people and another person, weighted
by the pair's strength). Each undirected edge keeps its strongest reading. The cache is
keyed by day and the intelligence data version and dropped on every domain event.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import marshal
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from kith.conf import data_dir
from kith.core import clock
from kith.intelligence import sql as q
from kith.intelligence.aggregates import pair_rows, to_agg
from kith.intelligence.conf import model_config
from kith.intelligence.scoring import strength_fn, strength_value
from kith.intelligence.services import data_version
from kith.interactions.models import Participant
from kith.records.selectors import home_org
from kith.relationships.models import Relationship
from kith.relationships.selectors import team_ids

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
    version: str = ""  # the intelligence data version this graph reflects

    def edge(self, u: int, v: int) -> Edge:
        lo, hi = (u, v) if u < v else (v, u)
        return self.edges[lo * len(self.ids) + hi]

    def label(self, u: int, v: int) -> str:
        e = self.edge(u, v)
        return e.label_fwd if u < v else e.label_back

    def strength(self, u: int, v: int) -> float:
        return self.edge(u, v).strength


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building big acyclic structures."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_cache: dict[dt.date, Graph] = {}
_lock = threading.Lock()


def invalidate(**_: Any) -> None:
    """Drop cached graphs (records deleted or restored, bulk loads)."""
    with _lock:
        _cache.clear()


def get_graph(as_of: dt.date | None = None) -> Graph:
    """The network as it stood at the end of ``as_of`` (default today), cached."""
    day = as_of or clock.today()
    version = data_version()
    with _lock:
        found = _cache.get(day)
    if found is not None and found.version == version:
        return found
    fingerprint = _fingerprint(version)
    with no_gc():  # millions of small containers: the cyclic collector would rescan them
        graph = _load(day, fingerprint)
        if graph is None:
            graph = build_graph(day)
            _save(graph, fingerprint)
    graph.version = version
    with _lock:
        if len(_cache) >= 4:
            _cache.clear()
        _cache[day] = graph
    return graph


# --- a file cache so that each new process (every CLI run) need not rebuild a big graph ---

DISK_MIN_NODES = 20_000


def _fingerprint(version: str) -> str:
    """What the graph depends on beyond the day: data version, records and relationships."""
    rec = q.fetch(f"SELECT COUNT(*), MAX(updated_at), MAX(deleted_at) FROM {q.REC}", [])[0]
    rel = q.fetch(f"SELECT COUNT(*) FROM {q.REL}", [])[0]
    return hashlib.sha1(repr((version, *rec, *rel)).encode()).hexdigest()[:16]


def _cache_file(day: dt.date, fingerprint: str) -> tuple[Path, str]:
    db = connection.settings_dict
    where = hashlib.sha1(f"{db.get('HOST')}|{db.get('PORT')}|{db['NAME']}".encode()).hexdigest()
    prefix = f"graph-{where[:12]}-"
    return data_dir() / "cache" / f"{prefix}{day.isoformat()}-{fingerprint}.marshal", prefix


def _load(day: dt.date, fingerprint: str) -> Graph | None:
    path, _ = _cache_file(day, fingerprint)
    try:  # loads() on bytes: load() on a file reads it in tiny pieces, 10x slower
        ids, types, adj, wadj, edge_rows, home = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    edges = {
        key: Edge(t, fwd, bwd, strength, role, list(kinds))
        for key, t, fwd, bwd, strength, role, kinds in edge_rows
    }
    index = {rid: i for i, rid in enumerate(ids)}
    return Graph(day, ids, index, types, adj, edges, home, wadj)


def _save(g: Graph, fingerprint: str) -> None:
    if len(g.ids) < DISK_MIN_NODES:
        return
    path, prefix = _cache_file(g.as_of, fingerprint)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        day_prefix = f"{prefix}{g.as_of.isoformat()}-"
        kept = sorted(path.parent.glob(f"{prefix}*.marshal"), key=lambda p: p.stat().st_mtime)
        for i, old in enumerate(kept):  # one file per day, at most four days per database
            if old.name.startswith(day_prefix) or i < len(kept) - 3:
                old.unlink(missing_ok=True)
        rows = [
            (key, e.type, e.label_fwd, e.label_back, e.strength, e.role, e.kinds)
            for key, e in g.edges.items()
        ]
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps((g.ids, g.types, g.adj, g.wadj, rows, g.home)))
        os.replace(tmp, path)
    except OSError:  # a cache only: never fail the command for it
        return


# --- incremental upkeep: one logged interaction or one relationship touches a few pairs ----


def on_interaction_logged(*, interaction_id: str, **_: Any) -> None:
    # the version as committed (read now, it would make the next row's bump move it again)
    transaction.on_commit(lambda: _apply_interaction(interaction_id, data_version()))


def on_relationship_changed(*, relationship_id: str, **_: Any) -> None:
    transaction.on_commit(lambda: _apply_relationship(relationship_id, data_version()))


def _apply_interaction(interaction_id: str, version: str) -> None:
    rows = list(
        Participant.objects.filter(interaction_id=interaction_id)
        .exclude(role="mentioned")
        .values_list("record_id", "at")
    )
    if not rows:
        return
    people = sorted({r for r, _ in rows})
    day = rows[0][1].date()
    for graph in _graphs():
        if graph.as_of < day:
            _stamp(graph, version)
            continue
        team = set(team_ids(graph.as_of))
        pairs = {(a, b) for a in people if a in team for b in people if b != a and b not in team}
        _refresh(graph, pairs, version)


def _apply_relationship(relationship_id: str, version: str) -> None:
    rel = Relationship.objects.filter(pk=relationship_id).first()
    if rel is None:
        invalidate()
        return
    for graph in _graphs():
        _refresh(graph, {(rel.from_record_id, rel.to_record_id)}, version)


def _graphs() -> list[Graph]:
    with _lock:
        return list(_cache.values())


def _stamp(graph: Graph, version: str) -> None:
    """Mark ``graph`` as of ``version`` when that is the very next change after its own."""
    if graph.version.isdigit() and version.isdigit() and int(version) == int(graph.version) + 1:
        graph.version = version


def _refresh(graph: Graph, pairs: set[tuple[str, str]], version: str) -> None:
    for a, b in pairs:
        u, v = graph.index.get(a), graph.index.get(b)
        if u is None or v is None:  # a record the graph has not seen: rebuild next time
            with _lock:
                _cache.pop(graph.as_of, None)
            return
        set_edge(graph, u, v, pair_edge(graph.as_of, a, b, u < v))
    _stamp(graph, version)


def set_edge(g: Graph, u: int, v: int, edge: Edge | None) -> None:
    """Put, replace or remove the edge between ``u`` and ``v`` in place."""
    n = len(g.ids)
    key = u * n + v if u < v else v * n + u
    old = g.edges.get(key)
    if edge is None:
        if old is not None:
            del g.edges[key]
            for x, y in ((u, v), (v, u)):
                at = g.adj[x].index(y)
                del g.adj[x][at]
                del g.wadj[x][at]
        return
    g.edges[key] = edge
    if old is None:
        g.adj[u].append(v)
        g.adj[v].append(u)
        g.wadj[u].append(edge.strength / 100.0)
        g.wadj[v].append(edge.strength / 100.0)
    else:
        g.wadj[u][g.adj[u].index(v)] = edge.strength / 100.0
        g.wadj[v][g.adj[v].index(u)] = edge.strength / 100.0


def pair_edge(day: dt.date, a: str, b: str, a_first: bool) -> Edge | None:
    """The strongest reading of everything joining ``a`` and ``b`` on ``day`` (or None)."""
    sql = f"""
        SELECT r.from_record_id, r.type_key, t.inverse, t.symmetric, r.role
        FROM {q.REL} r JOIN {q.RTYPE} t ON t.{q._q("key")} = r.type_key
        WHERE ((r.from_record_id = %s AND r.to_record_id = %s)
               OR (r.from_record_id = %s AND r.to_record_id = %s))
              AND (r.since IS NULL OR r.since <= %s) AND (r.until IS NULL OR r.until > %s)
    """
    found: list[Edge] = []
    for src, key, inverse, symmetric, role in q.fetch(sql, [a, b, b, a, day, day]):
        back = key if symmetric else (inverse or key)
        lower_is_src = (src == a) == a_first
        fwd, bwd = (key, back) if lower_is_src else (back, key)
        found.append(Edge(key, fwd, bwd, TYPE_STRENGTH.get(key, DEFAULT_TYPE_STRENGTH), role or ""))
    team = team_ids(day)
    member, other = (a, b) if a in team else (b, a)
    if member in team and other not in team:
        cfg = model_config()
        rows = pair_rows(cfg, day, team, ("person", other), member=member)
        s = strength_value(cfg, to_agg(rows[0]), day) if rows else 0.0
        if s > 0:
            found.append(Edge(INTERACTED, INTERACTED, INTERACTED, max(round(s, 1), 1.0)))
    if not found:
        return None
    best = max(found, key=lambda e: e.strength)
    best.kinds = list(dict.fromkeys(e.type for e in found))
    return best


def build_graph(day: dt.date) -> Graph:
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
