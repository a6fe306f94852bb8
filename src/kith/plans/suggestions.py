"""Whom to talk to, about what: suggested conversations for each of our people, from plans.

Advice, labelled as such, each with its evidence. For every active plan the viewer may see,
as of a day:

- a stakeholder past their cadence: their owner (else the plan's owner) should talk to them;
- a gap: no one on our team is warm with a stakeholder; the owner gets it, with who met
  them last and when, and the warmest introduction path (kith.network) when nobody has
  ever had two-way contact with them;
- a goal at risk or off track: its owner, with the plan's most influential warm-less or
  supportive stakeholder to talk it through with;
- an initiative due within ``DUE_DAYS`` (or overdue): its owner, with their owner on the
  customer's side.

A suggestion becomes a task through ``kith.tasks.services.create_task`` with a dedupe key
built from the plan, the person and the reason, so taking it twice updates one task.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from kith.core import clock
from kith.core.errors import NotFound
from kith.core.parse import parse_date
from kith.core.viewer import Viewer
from kith.plans.intros import intro_paths
from kith.plans.selectors import active_plans, goal_tracks, member_record, plan_goals
from kith.plans.stakeholders import stakeholders_states
from kith.records.models import Record
from kith.records.selectors import visible_q
from kith.relationships.models import Relationship

DUE_DAYS = 14
INTRO_HOPS = 3  # the longest introduction path suggested
LABEL = "suggestion"


def _intros(viewer: Viewer, people: list[str], day: dt.date) -> dict[str, dict[str, Any]]:
    """The warmest introduction path from our team to each person, in one search for all
    of them (``kith path PERSON`` ranks the same way): person id -> strength, hops, via."""
    out: dict[str, dict[str, Any]] = {}
    for pid, best in intro_paths(viewer, people, max_hops=INTRO_HOPS, as_of=day).items():
        names = [best["steps"][0]["from"]["name"]] + [s["to"]["name"] for s in best["steps"]]
        out[pid] = {"strength": best["strength"], "hops": best["hops"], "via": " → ".join(names)}
    return out


def _topics(plan: Record, s: dict[str, Any] | None) -> list[str]:
    topics = list(s["topics"]) if s else []
    outcome = plan.fields.get("desired_outcome")
    if outcome and not topics:
        topics.append(f"the plan's outcome: {outcome}")
    return topics


def _add(
    out: dict[str, list[dict[str, Any]]],
    member: str | None,
    plan: Record,
    account: Record,
    person: dict[str, str] | None,
    why: str,
    kind: str,
    topics: list[str],
    evidence: list[str],
    intro: dict[str, Any] | None = None,
) -> None:
    if member is None or person is None:
        return
    key = f"next:{plan.id}:{person['id']}:{kind}"
    out[member].append(
        {
            "label": LABEL,
            "key": key,
            "kind": kind,
            "plan": {"id": plan.id, "name": plan.name},
            "account": {"id": account.id, "name": account.name},
            "person": person,
            "why": why,
            "topics": topics,
            "evidence": evidence,
            "introduction": intro,
        }
    )


def next_conversations(
    viewer: Viewer, *, member: str | None = None, as_of: str | dt.date | None = None
) -> dict[str, Any]:
    """For each of our people (or one), the conversations to have, with why and evidence.

    Set-based for the whole team: the stakeholders of every active plan are scored in one
    computation, the goals' tracks come from their measures' stored readings (the worker
    takes them daily; reviews too), the initiatives in one query."""
    day = parse_date(as_of, field="as_of") or clock.today()
    only = member_record(viewer, member, field="member").id if member else None
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    plans = active_plans(viewer)
    states = stakeholders_states(viewer, plans, day)
    goals_of = plan_goals(viewer, [p.id for p, _ in plans])
    open_goals = [g for gs in goals_of.values() for g in gs if g.fields.get("status") != "closed"]
    account_of = {p.id: a for p, a in plans}
    accounts = {g.id: account_of[pid] for pid, gs in goals_of.items() for g in gs}
    tracks = goal_tracks(viewer, [g.id for g in open_goals], day, accounts)
    inits: dict[str, list[Record]] = defaultdict(list)
    for rel in (
        Relationship.objects.filter(
            type_id="advances", to_record__in=open_goals, from_record__deleted_at=None
        )
        .filter(visible_q(viewer, "from_record__"))
        .select_related("from_record")
        .order_by("from_record__created_at", "from_record_id")
    ):
        inits[rel.to_record_id].append(rel.from_record)
    theirs_ids = {str(i.fields.get("their_owner")) for rows in inits.values() for i in rows} - {
        "",
        "None",
    }
    theirs = {r.id: r for r in Record.objects.filter(visible_q(viewer), pk__in=theirs_ids)}
    strangers = sorted(
        {
            s["person"]["id"]
            for state in states.values()
            for s in state["stakeholders"]
            if s["works_there"] and not s["warm"] and not s["last_two_way_by"]
        }
    )
    intros = _intros(viewer, strangers, day) if strangers else {}
    for plan, account in plans:
        owner = str(plan.fields.get("owner") or "") or None
        items = [s for s in states[plan.id]["stakeholders"] if s["works_there"]]
        for s in items:
            who = s["owner"]["id"] if s["owner"] else owner
            role = s["role"].replace("_", " ")
            name = s["person"]["name"]
            evidence = [s["id"]]
            if not s["warm"]:
                why = f"no one on our team is warm with the {role} {name}"
                intro = None
                if s["last_two_way_by"]:
                    why += f"; {s['last_two_way_by']['name']} met them {s['days_since']} days ago"
                    if s["every_days"]:
                        why += f", cadence {s['every_days']}"
                else:
                    intro = intros.get(s["person"]["id"])
                    why += "; nobody has had two-way contact with them yet"
                _add(
                    out,
                    who,
                    plan,
                    account,
                    s["person"],
                    why,
                    "gap",
                    _topics(plan, s),
                    evidence,
                    intro,
                )
            elif s["past_cadence"]:
                why = (
                    f"the {role} {name} is past their cadence: last two-way contact "
                    f"{s['days_since']} days ago, cadence {s['every_days']}"
                )
                _add(
                    out, who, plan, account, s["person"], why, "cadence", _topics(plan, s), evidence
                )
        ranked = sorted(items, key=lambda s: (-s["influence"], s["person"]["name"]))
        for g in goals_of[plan.id]:
            if g.fields.get("status") == "closed":
                continue
            view = tracks[g.id]
            if view["track"] not in ("at risk", "off track"):
                continue
            sentences = [m["sentence"] for m in view["measures"] if m["status"] == view["track"]]
            target = ranked[0] if ranked else None
            why = f"goal {g.name!r} is {view['track']}: " + " ".join(sentences)
            _add(
                out,
                str(g.fields.get("owner") or "") or owner,
                plan,
                account,
                target["person"] if target else None,
                why,
                "goal",
                _topics(plan, target),
                [g.id] + [m["id"] for m in view["measures"]],
            )
        for g in goals_of[plan.id]:
            for ini in inits.get(g.id, []):
                f = ini.fields
                due = parse_date(str(f.get("due") or ""), field="due") if f.get("due") else None
                if due is None or f.get("state") in ("done", "cancelled"):
                    continue
                if (due - day).days > DUE_DAYS:
                    continue
                them = theirs.get(str(f.get("their_owner") or ""))
                when = "overdue since" if due < day else "due"
                why = f"initiative {ini.name!r} is {when} {due.isoformat()}"
                person = {"id": them.id, "name": them.name} if them else None
                _add(
                    out,
                    str(f.get("owner") or "") or owner,
                    plan,
                    account,
                    person,
                    why,
                    "initiative",
                    _topics(plan, None),
                    [ini.id],
                )
    names = {r.id: r.name for r in Record.objects.filter(visible_q(viewer), pk__in=list(out))}
    people = []
    for mid in sorted(out, key=lambda m: names.get(m, m)):
        if (only and mid != only) or mid not in names:
            continue
        people.append({"member": {"id": mid, "name": names[mid]}, "conversations": out[mid]})
    return {
        "as_of": day.isoformat(),
        "label": "suggestions, derived from the plans",
        "people": people,
    }


def suggestion_task(
    viewer: Viewer, key: str, *, member: str | None = None, as_of: str | dt.date | None = None
) -> dict[str, Any]:
    """The suggestion named ``key`` (from ``next_conversations``), for making a task."""
    view = next_conversations(viewer, member=member, as_of=as_of)
    for person in view["people"]:
        for c in person["conversations"]:
            if c["key"] == key:
                return {"member": person["member"], **c}
    raise NotFound(f"key: no suggestion {key!r} today", field="key")
