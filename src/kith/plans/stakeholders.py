"""The stakeholder map of a plan as of a day: everything derived, nothing typed.

For each stakeholder the viewer may see: health with reasons (kith.intelligence), the last
two-way contact against the desired cadence and who had it, whether they still work at the
account that day, and who on our team is warm with them (a tie of at least the engaged
strength). Coverage: the required buying roles filled, and filled by someone warm.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from kith.core.viewer import Viewer
from kith.intelligence import aggregates as agg
from kith.intelligence import sql as q
from kith.intelligence.conf import model_config
from kith.intelligence.engine import compute
from kith.plans import conf
from kith.plans.models import Stakeholder
from kith.records.models import Record
from kith.records.selectors import effective_viewer, hidden_ids, visible_q
from kith.relationships.selectors import team_ids


class _Row(NamedTuple):
    id: str
    plan_id: str
    person_id: str
    person__name: str
    role: str
    stance: str
    influence: int
    owner_id: str | None
    topics: list[str]
    every_days: int | None


def _label(role: str) -> str:
    return role.replace("_", " ")


def stakeholders_state(
    viewer: Viewer, plan: Record, account: Record, day: dt.date
) -> dict[str, Any]:
    """The plan's stakeholders (those ``viewer`` may see), their derived state and the gaps."""
    return stakeholders_states(viewer, [(plan, account)], day)[plan.id]


def stakeholders_states(
    viewer: Viewer, plans: list[tuple[Record, Record]], day: dt.date
) -> dict[str, dict[str, Any]]:
    """``stakeholders_state`` of many plans at once (plan id -> state): one scoring of
    every stakeholder, one read of the pair table, employment and names for them all."""
    viewer = effective_viewer(viewer)
    by_plan: dict[str, list[_Row]] = {p.id: [] for p, _ in plans}
    rows = (
        Stakeholder.objects.filter(plan_id__in=list(by_plan), person__deleted_at=None)
        .filter(visible_q(viewer, "person__"))
        .order_by("created_at", "id")
        .values_list(*_Row._fields)
    )
    for row in rows:  # plain rows: thousands of stakeholders build no model instances
        s = _Row(*row)
        by_plan[s.plan_id].append(s)
    every = [s for items in by_plan.values() for s in items]
    cfg = model_config()
    ids = tuple(sorted({s.person_id for s in every}))
    team = team_ids(day)
    unseen = hidden_ids(viewer, team)
    team = [m for m in team if m not in unseen]
    snap = compute(cfg, day, ("people", ids), viewer=viewer) if ids else None
    pairs = agg.pair_rows(cfg, day, team, ("people", ids), viewer=viewer) if ids else []
    last_by: dict[str, tuple[dt.date, str]] = {}
    for row in pairs:
        member, person, last_day = row[0], row[1], q.as_date(row[7])
        if last_day is None:
            continue
        seen = last_by.get(person)
        if seen is None or (last_day, member) > seen:
            last_by[person] = (last_day, member)
    accounts = tuple(sorted({a.id for _, a in plans}))
    employed = (
        {(p, o) for p, o, _ in agg.employment(day, accounts, viewer=viewer)} if every else set()
    )
    names = agg.names(
        set(team) | {s.owner_id for s in every if s.owner_id} | set(ids), viewer=viewer
    )
    floor = cfg["engaged_strength"]
    order = {r: i for i, r in enumerate(conf.buying_roles())}
    out: dict[str, dict[str, Any]] = {}
    scores: dict[str, Any] = {}
    for plan, account in plans:
        items = []
        for s in by_plan[plan.id]:
            pid = s.person_id
            if pid not in scores:
                scores[pid] = snap.person(pid, explain_tie=True) if snap else None
            score = scores[pid]
            ties = snap.ties.get(pid, []) if snap else []
            warm = [
                {"id": m, "name": names.get(m, m), "strength": round(st, 1)}
                for st, m in ties
                if st >= floor
            ]
            last = last_by.get(pid)
            days = (day - last[0]).days if last else None
            past = bool(s.every_days and (days is None or days > s.every_days))
            items.append(
                {
                    "id": s.id,
                    "person": {"id": pid, "name": s.person__name},
                    "role": s.role,
                    "stance": s.stance,
                    "influence": s.influence,
                    "owner": (
                        {"id": s.owner_id, "name": names.get(s.owner_id, s.owner_id)}
                        if s.owner_id and s.owner_id in names
                        else None
                    ),
                    "topics": s.topics,
                    "every_days": s.every_days,
                    "health": round(score.score, 1) if score else 0.0,
                    "band": score.band if score else "cold",
                    "reasons": score.reasons if score else [],
                    "last_two_way": last[0].isoformat() if last else None,
                    "last_two_way_by": (
                        {"id": last[1], "name": names.get(last[1], last[1])} if last else None
                    ),
                    "days_since": days,
                    "past_cadence": past,
                    "works_there": (pid, account.id) in employed,
                    "warm": warm,
                }
            )
        items.sort(key=lambda s: (order.get(s["role"], 99), -s["influence"], s["person"]["name"]))
        out[plan.id] = {"stakeholders": items, **_coverage(items, account)}
    return out


def _coverage(items: list[dict[str, Any]], account: Record) -> dict[str, Any]:
    required = conf.required_roles()
    filled = sorted({s["role"] for s in items if s["role"] in required})
    missing = [r for r in required if r not in filled]
    warm_roles = {s["role"] for s in items if s["warm"] and s["works_there"]}
    cold = [r for r in filled if r not in warm_roles]
    gaps: list[dict[str, Any]] = []
    for r in missing:
        gaps.append(
            {
                "kind": "role_missing",
                "role": r,
                "sentence": f"no {_label(r)} named for {account.name}",
            }
        )
    for s in items:
        who, role = s["person"]["name"], _label(s["role"])
        if not s["works_there"]:
            gaps.append(
                {
                    "kind": "left",
                    "stakeholder": s["id"],
                    "person": s["person"],
                    "sentence": f"the {role} {who} no longer works at {account.name}",
                }
            )
            continue
        if not s["warm"]:
            said = f"no one on our team is warm with the {role} {who}"
            if s["last_two_way_by"]:
                said += f"; {s['last_two_way_by']['name']} met them {s['days_since']} days ago"
                if s["every_days"]:
                    said += f", cadence {s['every_days']}"
            gaps.append(
                {"kind": "cold", "stakeholder": s["id"], "person": s["person"], "sentence": said}
            )
        if s["past_cadence"]:
            since = (
                f"last two-way contact {s['days_since']} days ago"
                if s["days_since"] is not None
                else "no two-way contact yet"
            )
            gaps.append(
                {
                    "kind": "past_cadence",
                    "stakeholder": s["id"],
                    "person": s["person"],
                    "sentence": f"{who} ({role}): {since}, cadence {s['every_days']}",
                }
            )
    coverage = {
        "required": required,
        "filled": filled,
        "missing": missing,
        "cold": cold,
        "past_cadence": sum(1 for s in items if s["past_cadence"]),
    }
    return {"coverage": coverage, "gaps": gaps}
