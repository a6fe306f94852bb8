"""Set-based reads of the pair table and the relationships: one GROUP BY pass per question.

Each function takes the as-of day and an optional scope (a person, the people employed by
one organisation on that day, or everyone) and returns plain Python values for scoring.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

from kith.core.viewer import SYSTEM, Viewer
from kith.intelligence import sql as q
from kith.intelligence.scoring import PairAgg
from kith.records.selectors import hidden_sql

_SAFE = re.compile(r"^[a-z0-9_]+$")

# ("all", None) | ("person", id) | ("org", id) | ("member", id), or several at once:
# ("people", (id, ...)) | ("orgs", (id, ...)) for a page of a list
Scope = tuple[str, str | tuple[str, ...] | None]


def _org_filter(org: str | tuple[str, ...] | None) -> tuple[str, list[Any]]:
    """`` AND r.to_record_id ...`` for one organisation, several, or none (every one)."""
    if org is None:
        return "", []
    if isinstance(org, str):
        return " AND r.to_record_id = %s", [org]
    marks, params = q.in_list(list(org))
    return f" AND r.to_record_id IN {marks}", params


def _weight_case(cfg: dict[str, Any]) -> str:
    def num(v: Any) -> str:  # a float on both databases (PostgreSQL would make it numeric)
        return f"CAST({float(v)!r} AS DOUBLE PRECISION)"

    whens = " ".join(
        f"WHEN '{k}' THEN {num(v)}" for k, v in cfg["kind_weights"].items() if _SAFE.match(k)
    )
    return f"(CASE kind {whens} ELSE {num(cfg['default_kind_weight'])} END)"


def _scope_sql(scope: Scope, as_of: dt.date, column: str = "person_id") -> tuple[str, list[Any]]:
    kind, ref = scope
    if kind == "person":
        return f" AND {column} = %s", [ref]
    if kind == "people":
        marks, params = q.in_list(list(ref or ()))
        return f" AND {column} IN {marks}", params
    if kind in ("org", "orgs"):
        org_sql, params = _org_filter(ref)
        employed = q.employed_sql(org_param=False) + org_sql
        return f" AND {column} IN ({employed})", [True, as_of, as_of, *params]
    return "", []


PairRow = tuple[Any, ...]


def pair_rows(
    cfg: dict[str, Any],
    as_of: dt.date,
    team: list[str],
    scope: Scope = ("all", None),
    member: str | None = None,
    *,
    viewer: Viewer = SYSTEM,
) -> list[PairRow]:
    """Per (team member, outside person), sums up to ``as_of``: ``(member, person, n,
    n_two, n_in, n_out, first_two_day, last_two_day, two_way_days, recent_weight,
    depth_sum, value)``; value is the weighted two-way engagement of the value window.
    People hidden from ``viewer`` are left out in the query (``team`` is the visible team)."""
    if not team:
        return []
    w = _weight_case(cfg)
    team_in, team_params = q.in_list(team)
    recent = as_of - dt.timedelta(days=cfg["frequency_window_days"])
    value_from = as_of - dt.timedelta(days=cfg["value_window_days"])
    scope_sql, scope_params = _scope_sql(scope, as_of)
    hide_sql, hide_params = hidden_sql(viewer, "person_id")
    team_set = set(team)
    if scope[0] == "all" or member:
        # the whole table anyway: let the database drop other members' rows
        members_in, members_params = q.in_list([member] if member else team)
        who = f"AND member_id IN {members_in} AND person_id NOT IN {team_in}"
    else:
        # a few people: their own index is fastest; team filtering happens below
        who, members_params, team_params = "", [], []
    sql = f"""
        SELECT member_id, person_id, SUM(n), SUM(n_two), SUM(n_in), SUM(n_out),
               MIN(CASE WHEN n_two > 0 THEN day END), MAX(CASE WHEN n_two > 0 THEN day END),
               COUNT(DISTINCT CASE WHEN n_two > 0 THEN day END),
               SUM(CASE WHEN day > %s THEN n_two * {w} ELSE 0 END),
               SUM(n_two * {w}),
               SUM(CASE WHEN day > %s THEN n_two * {w} ELSE 0 END)
        FROM {q.PAIR}
        WHERE day <= %s {who} {scope_sql} {hide_sql}
        GROUP BY member_id, person_id
    """
    params = [recent, value_from, as_of, *members_params, *team_params, *scope_params]
    params += hide_params
    rows = []
    for row in q.fetch(sql, params):
        m, p = row[0], row[1]
        if m not in team_set or p in team_set or (member and m != member):
            continue
        rows.append(row)
    return rows


def to_agg(row: PairRow) -> PairAgg:
    """One ``pair_rows`` row as the scoring model's input."""
    _, _, n, two, n_in, n_out, first, last, days, rec, depth, _ = row
    return PairAgg(
        n=int(n),
        n_two=int(two or 0),
        n_in=int(n_in or 0),
        n_out=int(n_out or 0),
        first_two=q.as_date(first),
        last_two=q.as_date(last),
        two_days=int(days or 0),
        recent_weight=float(rec or 0),
        depth_sum=float(depth or 0),
    )


def signals(
    cfg: dict[str, Any],
    as_of: dt.date,
    scope: Scope = ("all", None),
    *,
    viewer: Viewer = SYSTEM,
) -> dict[str, tuple[float, int, float, int, float, int]]:
    """Per person: sentiment sum/count and survey score sum/count now and one window before
    (of the ties between people ``viewer`` may see)."""
    win = cfg["signal_window_days"]
    start = as_of - dt.timedelta(days=win)
    before = as_of - dt.timedelta(days=2 * win)
    scope_sql, scope_params = _scope_sql(scope, as_of)
    person_sql, person_params = hidden_sql(viewer, "person_id")
    member_sql, member_params = hidden_sql(viewer, "member_id")
    sql = f"""
        SELECT person_id,
               SUM(CASE WHEN day > %s THEN sent_sum ELSE 0 END),
               SUM(CASE WHEN day > %s THEN sent_n ELSE 0 END),
               SUM(CASE WHEN day > %s THEN score_sum ELSE 0 END),
               SUM(CASE WHEN day > %s THEN score_n ELSE 0 END),
               SUM(CASE WHEN day <= %s THEN score_sum ELSE 0 END),
               SUM(CASE WHEN day <= %s THEN score_n ELSE 0 END)
        FROM {q.PAIR}
        WHERE day <= %s AND day > %s AND (sent_n > 0 OR score_n > 0) {scope_sql}
              {person_sql} {member_sql}
        GROUP BY person_id
    """
    params = [start, start, start, start, start, start, as_of, before, *scope_params]
    params += person_params + member_params
    return {
        r[0]: (float(r[1]), int(r[2]), float(r[3]), int(r[4]), float(r[5]), int(r[6]))
        for r in q.fetch(sql, params)
    }


def employment(
    as_of: dt.date, org: str | tuple[str, ...] | None = None, *, viewer: Viewer = SYSTEM
) -> list[tuple[str, str, str]]:
    """(person, organisation, role) for every rollup tie (works_at) in force on ``as_of``,
    at ``org`` (one id or several) or anywhere, between records ``viewer`` may see."""
    org_sql, org_params = _org_filter(org)
    org_sql, org_params = _hidden_ends(viewer, org_sql, org_params)
    sql = f"""
        SELECT r.from_record_id, r.to_record_id, r.role
        FROM {q.REL} r JOIN {q.RTYPE} t ON t.{q._q("key")} = r.type_key
        JOIN {q.REC} p ON p.id = r.from_record_id
        WHERE t.rollup = %s AND (r.since IS NULL OR r.since <= %s)
              AND (r.until IS NULL OR r.until > %s) AND p.deleted_at IS NULL {org_sql}
    """
    params: list[Any] = [True, as_of, as_of, *org_params]
    return [(a, b, c or "") for a, b, c in q.fetch(sql, params)]


def departures(
    cfg: dict[str, Any],
    as_of: dt.date,
    org: str | tuple[str, ...] | None = None,
    *,
    viewer: Viewer = SYSTEM,
) -> dict[str, list[tuple[str, str, dt.date]]]:
    """Per organisation: (person, role, until) of key people whose tie ended in the window
    (ties between records ``viewer`` may see)."""
    start = as_of - dt.timedelta(days=cfg["departure_window_days"])
    org_sql, org_params = _org_filter(org)
    org_sql, org_params = _hidden_ends(viewer, org_sql, org_params)
    sql = f"""
        SELECT r.from_record_id, r.to_record_id, r.role, r.until
        FROM {q.REL} r JOIN {q.RTYPE} t ON t.{q._q("key")} = r.type_key
        WHERE t.rollup = %s AND r.until IS NOT NULL AND r.until > %s AND r.until <= %s
              AND r.role <> '' {org_sql}
    """
    params: list[Any] = [True, start, as_of, *org_params]
    out: dict[str, list[tuple[str, str, dt.date]]] = defaultdict(list)
    for person, org_id, role, until in q.fetch(sql, params):
        key = key_role(cfg, role)
        if key:
            day = q.as_date(until)
            assert day is not None
            out[org_id].append((person, key, day))
    return out


_KEY_PATTERNS: dict[tuple[str, ...], re.Pattern[str]] = {}


def key_role(cfg: dict[str, Any], role: str) -> str | None:
    """The key role named in a relationship's role text, if any (case-insensitive)."""
    if not role:
        return None
    found = key_pattern(cfg).search(role.lower())
    return found.group(1) if found else None


def key_pattern(cfg: dict[str, Any]) -> re.Pattern[str]:
    keys = tuple(str(k).lower() for k in cfg["key_roles"])
    pattern = _KEY_PATTERNS.get(keys)
    if pattern is None:
        alts = "|".join(re.escape(k) for k in keys)
        pattern = _KEY_PATTERNS[keys] = re.compile(rf"\b({alts})\b")
    return pattern


def names(ids: set[str] | None = None, *, viewer: Viewer = SYSTEM) -> dict[str, str]:
    """Names of the records of ``ids`` (or of every live record) that ``viewer`` may see."""
    hide_sql, hide_params = hidden_sql(viewer, "id")
    if ids is not None:
        out: dict[str, str] = {}
        items = sorted(ids)
        for i in range(0, len(items), 500):
            chunk = items[i : i + 500]
            marks, params = q.in_list(chunk)
            sql = f"SELECT id, name FROM {q.REC} WHERE id IN {marks} {hide_sql}"
            out.update(q.fetch(sql, params + hide_params))
        return out
    sql = f"SELECT id, name FROM {q.REC} WHERE deleted_at IS NULL {hide_sql}"
    return dict(q.fetch(sql, hide_params))


def organisations(*, viewer: Viewer = SYSTEM) -> list[tuple[str, str]]:
    """(id, name) of every live organisation ``viewer`` may see."""
    hide_sql, hide_params = hidden_sql(viewer, "id")
    sql = f"SELECT id, name FROM {q.REC} WHERE type_key = %s AND deleted_at IS NULL {hide_sql}"
    return [(a, b) for a, b in q.fetch(sql, ["organization", *hide_params])]


def _hidden_ends(viewer: Viewer, sql: str, params: list[Any]) -> tuple[str, list[Any]]:
    """``sql`` with both ends of the relationship ``r`` limited to what ``viewer`` sees."""
    a_sql, a_params = hidden_sql(viewer, "r.from_record_id")
    b_sql, b_params = hidden_sql(viewer, "r.to_record_id")
    return sql + a_sql + b_sql, [*params, *a_params, *b_params]
