"""Journeys on a record page and its relationship map, in a real Chromium."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from kith.web.tests.browser.conftest import MEMBER, LiveKith, sign_in


def _cli_json(live: LiveKith, *args: str) -> Any:
    done = live.kith(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _score(page: Any) -> float:
    return float(page.locator("#health .score").get_attribute("data-score"))


def test_person_add_relationship_log_call_see_timeline_and_health(
    page: Any, live: LiveKith
) -> None:
    tag = uuid.uuid4().hex[:6]
    person = _cli_json(live, "person", "add", f"Journey Jo {tag}", "--email", f"jo{tag}@j.example")
    _cli_json(live, "org", "add", f"Journey Org {tag}")
    sign_in(page, MEMBER)
    page.goto(f"/records/{person['id']}")
    assert page.locator("h1").inner_text() == f"Journey Jo {tag}"
    page.wait_for_selector("#health svg.chart")  # the monthly trend loads after the page
    assert _score(page) == 0.0

    # edit a field in place
    page.get_by_role("link", name="Edit name").click()
    page.get_by_label("Name (required)").fill(f"Journey Joanna {tag}")
    page.get_by_role("button", name="Save").click()
    page.locator("#field-name").get_by_text(f"Journey Joanna {tag}").wait_for()

    # add a relationship; a wrong reference first says why next to the field
    page.get_by_text("Add a relationship").click()
    page.get_by_label(re.compile(r"^Journey Jo.* …$")).select_option("works_at")
    page.get_by_label("… whom").fill("Nobody By This Name")
    page.get_by_role("button", name="Add relationship").click()
    page.locator("#rel-other-error").get_by_text("no record matches").wait_for()
    page.get_by_label("… whom").fill(f"Journey Org {tag}")
    page.get_by_label("Role or title").fill("Buyer")
    page.get_by_role("button", name="Add relationship").click()
    page.get_by_text(f"Added: Journey Joanna {tag} works at Journey Org {tag}.").wait_for()
    assert (
        page.locator("#relationships").get_by_role("link", name=f"Journey Org {tag}").is_visible()
    )

    # log a call with our side: the timeline and the health panel change
    page.get_by_text("Log an interaction").click()
    page.get_by_label("Subject").fill(f"Intro call {tag}")
    page.get_by_label("Sentiment").select_option("positive")
    page.get_by_role("button", name="Log it").click()
    page.get_by_text("Logged the call.").wait_for()
    page.locator("#timeline").get_by_text(f"Intro call {tag}").wait_for()
    assert _score(page) > 0.0
    assert "nobody on our team" not in page.locator("#health").inner_text()
    page.wait_for_selector("#health svg.chart")

    # and it all holds after a reload
    page.reload()
    assert page.locator("#timeline").get_by_text(f"Intro call {tag}").is_visible()
    assert _score(page) > 0.0


def test_explore_the_map_click_a_node_find_a_path(page: Any, live: LiveKith) -> None:
    tag = uuid.uuid4().hex[:6]
    team = _cli_json(live, "team")
    member = team[0]
    person = _cli_json(live, "person", "add", f"Mapped Mo {tag}", "--email", f"mo{tag}@j.example")
    done = live.kith("relate", member["id"], "knows", person["id"])
    assert done.returncode == 0, done.stderr
    sign_in(page, MEMBER)
    page.goto(f"/records/{person['id']}")
    page.get_by_role("link", name="Relationship map").click()
    page.wait_for_selector("#map[data-ready=true]")
    assert page.evaluate("window.kithMap.nodes().length") >= 2
    assert page.locator("#map canvas").count() > 0
    # keyboard users get the same records as links
    assert page.locator("#node-list").get_by_role("link", name=member["name"]).is_visible()

    # the path finder draws the path on the graph and lists its hops
    page.get_by_role("button", name="Find paths").click()
    page.wait_for_selector("#map[data-ready=true]")
    page.get_by_text("Path 1").wait_for()
    assert int(page.locator("#map").get_attribute("data-paths") or 0) >= 1
    assert page.evaluate("window.kithMap.$('node.on-path').length") >= 2
    assert page.locator("#path-results").get_by_role("link", name=member["name"]).count() >= 1

    # a click on a node opens its record
    box = page.locator("#map").bounding_box()
    x, y = page.evaluate(
        "(id) => { const p = window.kithMap.getElementById(id).renderedPosition();"
        " return [p.x, p.y]; }",
        member["id"],
    )
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url(f"**/records/{member['id']}")
    assert page.locator("h1").inner_text() == member["name"]


def test_map_stakeholder_overlay(page: Any, live: LiveKith) -> None:
    tag = uuid.uuid4().hex[:6]
    org = _cli_json(live, "org", "add", f"Overlay Org {tag}")
    who = _cli_json(
        live,
        "person",
        "add",
        f"Stake Sam {tag}",
        "--email",
        f"ss{tag}@j.example",
        "--org",
        org["id"],
    )
    plan = _cli_json(live, "plan", "add", org["id"], "--name", f"Overlay plan {tag}")
    _cli_json(
        live,
        "stakeholder",
        "add",
        plan["id"],
        who["id"],
        "--role",
        "champion",
        "--stance",
        "supporter",
    )
    sign_in(page, MEMBER)
    page.goto(f"/records/{org['id']}/map")
    page.wait_for_selector("#map[data-ready=true]")
    # off by default: nothing marked, the list hidden
    assert page.evaluate("window.kithMap.$('node.stakeholder').length") == 0
    assert not page.locator("#stakeholder-list").is_visible()
    page.get_by_role("checkbox", name="Plan stakeholders").check()
    page.wait_for_selector("#map[data-stakeholders='1']")
    assert page.evaluate("window.kithMap.$('node.stakeholder').length") == 1
    label = page.evaluate(f"window.kithMap.getElementById('{who['id']}').data('stakeLabel')")
    assert label == f"Stake Sam {tag} (champion, supporter, cold)"
    assert "stakeholders=1" in page.url  # the state is in the URL
    listed = page.locator("#stakeholder-list")
    assert listed.get_by_role("link", name=f"Stake Sam {tag}").is_visible()
    assert "champion, supporter" in listed.inner_text()
    page.reload()
    page.wait_for_selector("#map[data-stakeholders='1']")
    assert page.get_by_role("checkbox", name="Plan stakeholders").is_checked()
