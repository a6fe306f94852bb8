"""Compute strength and health for a scope (one person, one organisation, or everyone).

Three to five set-based queries per call, whatever the scope; all the rest is in memory.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kith.core.viewer import SYSTEM, Viewer
from kith.intelligence import aggregates as agg
from kith.intelligence import sql as q
from kith.intelligence.scoring import (
    SCORES_FELL,
    OrgInputs,
    Score,
    org_health,
    pair_strength,
    person_health,
    strength_fn,
)
from kith.network.graph import no_gc
from kith.records.selectors import hidden_ids, home_org
from kith.relationships.selectors import team_ids


@dataclass
class Snapshot:
    as_of: dt.date
    team: list[str]
    cfg: dict[str, Any] = field(default_factory=dict)
    person_score: dict[str, float] = field(default_factory=dict)
    person_last: dict[str, str] = field(default_factory=dict)  # last two-way contact
    orgs: dict[str, Score] = field(default_factory=dict)
    value: dict[str, float] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    viewer: Viewer = SYSTEM  # whom the snapshot is for: nothing hidden from them is in it
    ties: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    rows: dict[tuple[str, str], agg.PairRow] = field(default_factory=dict)
    people: dict[str, Score] = field(default_factory=dict)  # built on demand by person()

    def person(self, pid: str, *, explain_tie: bool = False) -> Score:
        """The full health score (factors, reasons) of one person in the snapshot."""
        found = self.people.get(pid)
        if found is not None:
            return found
        name = self.names.get
        ties = self.ties.get(pid, [])
        why = None
        if ties and explain_tie:
            row = self.rows.get((ties[0][1], pid))
            if row is not None:
                why = pair_strength(self.cfg, agg.to_agg(row), self.as_of).reasons
        score = person_health(
            self.cfg, name(pid, pid), [(t[0], name(t[1], t[1])) for t in ties], why
        )
        if pid in self.person_last:
            score.extra["last_two_way"] = self.person_last[pid]
        self.people[pid] = score
        return score


def compute(
    cfg: dict[str, Any],
    as_of: dt.date,
    scope: agg.Scope = ("all", None),
    *,
    viewer: Viewer = SYSTEM,
    team: list[str] | None = None,
) -> Snapshot:
    """Health of every person and organisation in ``scope`` as of the end of ``as_of``,
    from the records ``viewer`` may see only (hidden people, organisations and team members
    neither score, count nor appear in a reason).

    People's scores are numbers here; ``snap.person(id)`` builds one's factors and reasons.
    ``team``: ``team_ids(as_of)`` when the caller has it already (several scopes, one day).
    """
    with no_gc():  # hundreds of thousands of tuples, no cycles
        return _compute(cfg, as_of, scope, viewer, team)


def _compute(
    cfg: dict[str, Any],
    as_of: dt.date,
    scope: agg.Scope,
    viewer: Viewer,
    known_team: list[str] | None = None,
) -> Snapshot:
    team = list(known_team) if known_team is not None else team_ids(as_of)
    if not viewer.sees_everything:
        unseen = hidden_ids(viewer, team)
        team = [m for m in team if m not in unseen]
    team_set = set(team)
    snap = Snapshot(as_of=as_of, team=team, cfg=cfg, viewer=viewer)
    rows = agg.pair_rows(cfg, as_of, team, scope, viewer=viewer)
    kind, ref = scope
    if kind in ("org", "orgs"):
        jobs = [j for j in agg.employment(as_of, ref, viewer=viewer) if j[0] not in team_set]
    elif kind == "all":
        jobs = [j for j in agg.employment(as_of, viewer=viewer) if j[0] not in team_set]
    else:
        jobs = []
    if kind == "all":
        snap.names = agg.names(viewer=viewer)
    else:
        ids = {r[1] for r in rows} | {j[0] for j in jobs} | team_set
        scoped = set(ref) if isinstance(ref, tuple) else {ref} if ref else set()
        snap.names = agg.names(ids | scoped, viewer=viewer)
    strength = strength_fn(cfg, as_of)
    as_date = q.as_date
    by_person: dict[str, list[tuple[float, str]]] = defaultdict(list)
    last_seen: dict[str, Any] = {}
    value = snap.value
    for row in rows:
        member, person, n, two, _, _, first, last, days, rec, depth, val = row
        if two:
            ld = as_date(last)
            s = strength(n, two, as_date(first), ld, days, rec or 0.0, depth or 0.0)
            if s > 0:
                by_person[person].append((s, member))
                seen = last_seen.get(person)
                if seen is None or ld > seen:
                    last_seen[person] = ld
        value[person] = value.get(person, 0.0) + float(val or 0)
    if kind == "person":
        snap.rows = {(r[0], r[1]): r for r in rows}
    bonus, cap, floor = cfg["breadth_bonus"], cfg["breadth_max"], cfg["engaged_strength"]
    for person, ties in by_person.items():
        ties.sort(key=lambda t: (-t[0], t[1]))
        snap.ties[person] = ties
        top = ties[0][0]
        extra = min(max(sum(1 for t in ties if t[0] >= floor) - 1, 0), cap)
        snap.person_score[person] = min(top + (100 - top) * bonus * extra, 100.0)
        snap.person_last[person] = last_seen[person].isoformat()
    if kind == "person" and isinstance(ref, str):
        snap.person(ref, explain_tie=True)
    if kind in {"org", "orgs", "all"}:
        _orgs(cfg, snap, jobs, scope)
    return snap


def _orgs(
    cfg: dict[str, Any], snap: Snapshot, jobs: list[tuple[str, str, str]], scope: agg.Scope
) -> None:
    kind, ref = scope
    home = home_org()
    staff: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for person, org, role in jobs:
        staff[org].append((person, role))
    if kind == "org":
        org_ids = [ref] if isinstance(ref, str) else []
    elif kind == "orgs":
        org_ids = list(ref or ())
    else:
        org_ids = [o for o, _ in agg.organisations(viewer=snap.viewer)]
    signals = agg.signals(cfg, snap.as_of, scope, viewer=snap.viewer)
    org_ref = ref if kind in ("org", "orgs") else None
    gone = agg.departures(cfg, snap.as_of, org_ref, viewer=snap.viewer)
    missing = {p for rows in gone.values() for p, _, _ in rows} - set(snap.names)
    if missing:
        snap.names.update(agg.names(missing, viewer=snap.viewer))
    window_start = snap.as_of - dt.timedelta(days=cfg["signal_window_days"])
    engaged_floor = cfg["engaged_strength"]
    name = snap.names.get
    pattern = agg.key_pattern(cfg)
    person_score, person_last = snap.person_score, snap.person_last
    for org in org_ids:
        if home is not None and org == home.id:
            continue
        people = staff.get(org, [])
        rows = []
        key_people = []
        in_touch: set[str] = set()
        sent = [0.0, 0]
        recent = [0.0, 0]
        before = [0.0, 0]
        current = set()
        last = ""
        for person, role in people:
            current.add(person)
            h = person_score.get(person, 0.0)
            seen = person_last.get(person, "")
            if seen > last:
                last = seen
            rows.append((person, name(person, person), h, role))
            found = pattern.search(role.lower()) if role else None
            key = found.group(1) if found else None
            if key:
                key_people.append((name(person, person), key, h))
            for strength, member in snap.ties.get(person, ()):
                if strength >= engaged_floor:
                    in_touch.add(member)
            sig = signals.get(person)
            if sig:
                sent[0] += sig[0]
                sent[1] += sig[1]
                recent[0] += sig[2]
                recent[1] += sig[3]
                before[0] += sig[4]
                before[1] += sig[5]
            snap.value[org] = snap.value.get(org, 0.0) + snap.value.get(person, 0.0)
        departed = [
            (name(p, p), role, until) for p, role, until in gone.get(org, ()) if p not in current
        ]
        inputs = OrgInputs(
            name=name(org, org),
            people=rows,
            members_in_touch=sorted(name(m, m) for m in in_touch),
            key_people=key_people,
            departures=departed,
            last_two_way=last,
            as_of=snap.as_of,
            sentiment=(sent[0], int(sent[1])),
            score_recent=(recent[0], int(recent[1])),
            score_before=(before[0], int(before[1])),
            window_start=window_start,
        )
        score = org_health(cfg, inputs)
        score.extra["risk_events"] = [
            {"date": until.isoformat(), "event": f"{role} {who} left"}
            for who, role, until in departed
        ] + [
            {"date": window_start.isoformat(), "event": r}
            for r in score.reasons
            if r.startswith(SCORES_FELL)
        ]
        if last:
            score.extra["last_two_way"] = last
        snap.orgs[org] = score
