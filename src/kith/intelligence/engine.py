"""Compute strength and health for a scope (one person, one organisation, or everyone).

Three to five set-based queries per call, whatever the scope; all the rest is in memory.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kith.intelligence import aggregates as agg
from kith.intelligence.scoring import (
    OrgInputs,
    Score,
    org_health,
    pair_strength,
    person_health,
    strength_value,
)


@dataclass
class Snapshot:
    as_of: dt.date
    team: list[str]
    people: dict[str, Score] = field(default_factory=dict)
    orgs: dict[str, Score] = field(default_factory=dict)
    value: dict[str, float] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    ties: dict[str, list[tuple[float, str]]] = field(default_factory=dict)


def compute(cfg: dict[str, Any], as_of: dt.date, scope: agg.Scope = ("all", None)) -> Snapshot:
    """Health of every person and organisation in ``scope`` as of the end of ``as_of``."""
    from kith.intelligence.services import ensure_pairstats
    from kith.relationships.selectors import team_ids

    ensure_pairstats()
    team = team_ids(as_of)
    team_set = set(team)
    snap = Snapshot(as_of=as_of, team=team)
    pairs, values = agg.pair_aggs(cfg, as_of, team, scope)
    kind, ref = scope
    if kind == "org":
        jobs = [j for j in agg.employment(as_of, ref) if j[0] not in team_set]
    elif kind == "all":
        jobs = [j for j in agg.employment(as_of) if j[0] not in team_set]
    else:
        jobs = []
    ids = {p for _, p in pairs} | {j[0] for j in jobs} | team_set
    if kind == "all":
        snap.names = agg.names()
    else:
        snap.names = agg.names(ids | ({ref} if ref else set()))
    name = snap.names.get
    by_person: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for (member, person), pair in pairs.items():
        value = strength_value(cfg, pair, as_of)
        if value > 0:
            by_person[person].append((value, member))
        snap.value[person] = snap.value.get(person, 0.0) + values[(member, person)]
    for person, ties in by_person.items():
        ties.sort(key=lambda t: (-t[0], t[1]))
        snap.ties[person] = ties
        top = pairs[(ties[0][1], person)]
        # the strongest tie's own reasons only where one person is asked about (cost)
        why = pair_strength(cfg, top, as_of).reasons if kind == "person" else None
        snap.people[person] = person_health(
            cfg, name(person, person), [(t[0], name(t[1], t[1])) for t in ties], why
        )
        assert top.last_two is not None
        snap.people[person].extra["last_two_way"] = top.last_two.isoformat()
    if kind == "person" and ref and ref not in snap.people:
        snap.people[ref] = person_health(cfg, name(ref, ref), [])
    if kind in {"org", "all"}:
        _orgs(cfg, snap, jobs, scope)
    return snap


def _orgs(
    cfg: dict[str, Any], snap: Snapshot, jobs: list[tuple[str, str, str]], scope: agg.Scope
) -> None:
    from kith.records.selectors import home_org

    kind, ref = scope
    home = home_org()
    staff: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for person, org, role in jobs:
        staff[org].append((person, role))
    org_ids = ([ref] if ref else []) if kind == "org" else [o for o, _ in agg.organisations()]
    signals = agg.signals(cfg, snap.as_of, scope)
    gone = agg.departures(cfg, snap.as_of, ref if kind == "org" else None)
    missing = {p for rows in gone.values() for p, _, _ in rows} - set(snap.names)
    if missing:
        snap.names.update(agg.names(missing))
    window_start = snap.as_of - dt.timedelta(days=cfg["signal_window_days"])
    engaged_floor = cfg["engaged_strength"]
    name = snap.names.get
    cold = person_health(cfg, "", [])
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
            ph = snap.people.get(person, cold)
            h = ph.score
            last = max(last, str(ph.extra.get("last_two_way", "")))
            rows.append((person, name(person, person), h, role))
            key = agg.key_role(cfg, role)
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
            if r.startswith("NPS fell")
        ]
        if last:
            score.extra["last_two_way"] = last
        snap.orgs[org] = score
