"""A plan's journey in a real Chromium: a plan from a template on the demo, its computed
measures with their projection, the stakeholder gaps, a review, and "this week" suggesting
the missing conversation, which one click turns into a task."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

from kith.core import clock
from kith.web.tests.browser.conftest import MEMBER, LiveKith, sign_in


def _cli_json(live: LiveKith, *args: str) -> Any:
    done = live.kith(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_template_measure_projection_gaps_review_next_task(page: Any, live: LiveKith) -> None:
    tag = uuid.uuid4().hex[:6]
    today = clock.today()  # the server's day (UTC)
    start = (today - dt.timedelta(days=60)).isoformat()
    owner = _cli_json(live, "team")[0]
    account = _cli_json(live, "org", "add", f"Plan Journey Org {tag}")
    # their economic buyer, whom nobody on our team has ever talked to
    buyer = _cli_json(
        live, "person", "add", f"Lee Park {tag}", "--org", account["id"], "--role", "CFO"
    )
    plan = _cli_json(
        live,
        "plan",
        "add",
        account["id"],
        "--name",
        f"Journey plan {tag}",
        "--template",
        "expand",
        "--start",
        start,
        "--owner",
        owner["id"],
    )
    _cli_json(
        live,
        "stakeholder",
        "add",
        plan["id"],
        buyer["id"],
        "--role",
        "economic_buyer",
        "--topic",
        f"renewal budget {tag}",
        "--every",
        "30",
    )

    sign_in(page, MEMBER)
    page.get_by_role("link", name="Plans", exact=True).click()
    row = page.locator("tr", has_text=f"Journey plan {tag}")
    row.wait_for()
    page.get_by_role("link", name=f"Journey plan {tag}").click()
    page.wait_for_url(re.compile(rf"/plans/{plan['id']}$"))
    # the template's computed measures, each with its status sentence
    sentence = page.locator(".measure-sentence", has_text="Buying roles filled and warm")
    assert "(baseline 0 on " in sentence.inner_text()
    assert page.locator(".measure svg.spark").count() >= 3
    # the stakeholder gaps: no decision maker or champion named, nobody warm with the buyer
    gaps = page.locator("ul.gaps")
    gaps.get_by_text(
        f"no one on our team is warm with the economic buyer Lee Park {tag}"
    ).wait_for()
    gaps.get_by_text("no champion named").wait_for()

    # a review a month ago: the measures get a reading that day, so a trend appears
    review_day = (today - dt.timedelta(days=30)).isoformat()
    page.get_by_label("Day (empty: today)").fill(review_day)
    page.get_by_label("Notes").fill(f"First review {tag}")
    page.get_by_role("button", name="Record the review").click()
    page.get_by_text(f"Review of {review_day} recorded.").wait_for()
    assert f"As of {review_day}" in page.locator("main").inner_text()
    page.goto(f"/plans/{plan['id']}")
    page.locator(".reviews").get_by_text(f"First review {tag}").wait_for()
    engaged = page.locator(".measure", has_text="People engaged at").first
    assert "at the current pace" in engaged.inner_text()
    assert engaged.locator("line.spark-trend").count() == 1  # the projection to the target

    # this week: the missing conversation is suggested, with why and the topics
    page.get_by_role("link", name="Suggested conversations").click()
    item = page.locator("li.suggestion", has_text=f"Lee Park {tag}")
    item.first.wait_for()
    text = item.first.inner_text()
    assert "suggestion" in text
    assert f"no one on our team is warm with the economic buyer Lee Park {tag}" in text
    assert f"renewal budget {tag}" in text
    item.first.get_by_role("button", name=re.compile("Make a task")).click()
    page.get_by_text(f"Task made: Talk to Lee Park {tag}").wait_for()
    tasks = _cli_json(live, "tasks", "--about", buyer["id"])
    rows = tasks["tasks"] if isinstance(tasks, dict) else tasks
    # (the plan's owner has no Kith sign-in here, so the task says whom it is for)
    assert [t["title"] for t in rows] == [
        f"Talk to Lee Park {tag} (Plan Journey Org {tag}) — for {owner['name']}"
    ]
