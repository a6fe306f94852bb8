"""The record page's Plan section: goals with status sentences, stakeholders, initiatives."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from kith.core.viewer import SYSTEM
from kith.plans import services as svc
from kith.plans.tests.web_clients import _no_rate_limit, make_client, member, viewer
from kith.web.tests.test_accessibility import check

__all__ = ["_no_rate_limit", "make_client", "member", "viewer"]


def test_the_plan_section(world: dict[str, Any], member: Client) -> None:
    plan = svc.add_plan(
        viewer=SYSTEM, account="Acme", name="Acme FY27", owner="mia@our.test", start="2026-06-01"
    )
    goal = svc.add_goal(
        viewer=SYSTEM, plan=plan.id, text="Broaden the relationship", due="2027-03-31"
    )
    svc.add_measure(viewer=SYSTEM, goal=goal.id, metric="people.engaged", target=3, by="2027-03-31")
    svc.add_stakeholder(
        viewer=SYSTEM, plan=plan.id, person="Lee Park", role="economic_buyer", every=30
    )
    svc.add_initiative(
        viewer=SYSTEM, goal=goal.id, title="Pilot in Ops", owner="tom@our.test", due="2026-07-01"
    )
    acme = world["acme"].id
    assert f"/records/{acme}/plans" in member.get(f"/records/{acme}").content.decode()
    frag = member.get(f"/records/{acme}/plans").content.decode()
    assert "Acme FY27" in frag and "People engaged at Acme: 2 (baseline 2 on 2026-06-01" in frag
    assert "Lee Park" in frag and "band-" in frag and "Pilot in Ops" in frag
    assert "no one on our team is warm with the economic buyer Lee Park" in frag
    assert "style=" not in frag and "<script" not in frag
    assert not re.search(r"\son\w+=", frag)
    check(member.get(f"/records/{acme}").content.decode(), f"/records/{acme}")
    assert (
        "No plan for Mia Chen" in member.get(f"/records/{world['mia'].id}/plans").content.decode()
    )
