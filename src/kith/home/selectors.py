"""Reads of the home page: who I am in the data, what needs attention, recent activity;
and the header's quick results.

The home page composes reads the owning apps answer (attention and risk from
``kith.intelligence.attention``); each takes the acting ``Viewer``.
"""

from __future__ import annotations

from typing import Any

from kith.core.errors import KithError
from kith.core.viewer import Viewer
from kith.intelligence.attention import at_risk_by_type, my_attention, today
from kith.interactions.selectors import recent_interactions
from kith.records.selectors import contacts_of, resolve, search_records
from kith.relationships.selectors import employers, team_ids
from kith.tasks.cadence_selectors import due
from kith.tasks.selectors import tasks_for

RISK_SHOWN = 8
ACTIVITY_SHOWN = 12
TASKS_SHOWN = 8


def my_person(viewer: Viewer, email: str) -> dict[str, Any]:
    """The person of our team whose email is the user's, or why there is none."""
    try:
        person = resolve(viewer, email, type_key="person", field="email")
    except KithError:
        return {"person": None, "note": f"No person record has your email ({email})."}
    if person.id not in team_ids(today()):
        return {
            "person": None,
            "note": f"{person.name} has your email but is not on our team (no works_at tie "
            "to our organisation).",
        }
    return {"person": person, "note": ""}


def home_digest(viewer: Viewer, email: str) -> dict[str, Any]:
    """Everything the home page shows a signed-in user whose sign-in is ``email``."""
    me = my_person(viewer, email)
    risk = at_risk_by_type(viewer, RISK_SHOWN)
    return {
        "me": me["person"],
        "me_note": me["note"],
        "attention": my_attention(viewer, me["person"].id) if me["person"] else [],
        "people_at_risk": [] if me["person"] else risk["person"],
        "accounts_at_risk": risk["organization"],
        "activity": recent_interactions(viewer, limit=ACTIVITY_SHOWN),
        "overdue_tasks": tasks_for(viewer, overdue=True, limit=TASKS_SHOWN)[0],
        "due_cadences": due(viewer, limit=TASKS_SHOWN),
    }


def quick_search(viewer: Viewer, text: str, *, limit: int = 8) -> list[dict[str, Any]]:
    """The header's results for ``text``: records the viewer may see (the one search rule,
    ``kith.records.selectors.search_records``), each with a line saying who or what it is."""
    found = search_records(viewer, text, limit=limit)
    jobs = employers(viewer, [r.id for r in found if r.type_id == "person"], day=today())
    out = []
    for r in found:
        contacts = contacts_of(r)
        orgs = jobs.get(r.id, [])
        detail = [", ".join(o["name"] for o in orgs[:2])] if orgs else []
        detail += (contacts["emails"] or contacts["domains"] or contacts["phones"])[:1]
        out.append(
            {
                "id": r.id,
                "name": r.name,
                "type": r.type_id,
                "type_label": r.type.label,
                "detail": " · ".join(d for d in detail if d),
            }
        )
    return out
