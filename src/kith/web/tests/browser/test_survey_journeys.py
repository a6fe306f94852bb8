"""The public survey answer page in Chromium: no sign-in, keyboard-operable scale, one
answer only; and the demo's Quarterly NPS on the surveys pages (CSP violations fail)."""

from __future__ import annotations

import json
from typing import Any

from kith.web.tests.browser.conftest import LiveKith, sign_in


def test_answer_a_survey_by_its_link_once(page: Any, live: LiveKith) -> None:
    person = json.loads(live.kith("list", "--type", "person", "--limit", "1", "--json").stdout)
    ref = person[0]["id"] if isinstance(person, list) else person["items"][0]["id"]
    done = live.kith("survey", "add", "csat", "--question", "How satisfied are you with us?",
                     "--name", "Journey CSAT")  # fmt: skip
    assert done.returncode == 0, done.stderr
    made = live.kith("survey", "link", "Journey CSAT", "--to", ref, "--json")
    assert made.returncode == 0, made.stderr
    path = "/s/" + json.loads(made.stdout)["url"].rsplit("/s/", 1)[1]
    page.goto(path)
    assert page.get_by_role("heading", level=1).inner_text() == "Your answer"
    group = page.get_by_role("group", name="How satisfied are you with us?")
    group.get_by_text("4", exact=True).click()
    assert page.locator("#score-4").is_checked()
    page.get_by_label("Anything you would like to add? (optional)").fill("Quick and friendly.")
    page.get_by_role("button", name="Send my answer").click()
    assert "your answer is recorded" in page.get_by_role("status").inner_text()
    page.goto(path)
    assert "answered already" in page.get_by_role("status").inner_text()


def test_the_demo_survey_on_the_surveys_pages(page: Any, live: LiveKith) -> None:
    surveys = json.loads(live.kith("surveys", "--json").stdout)
    assert any(s["name"] == "Quarterly NPS" for s in surveys)
    sign_in(page)
    page.goto("/surveys")
    page.get_by_role("link", name="Quarterly NPS").click()
    assert page.get_by_role("heading", name="Response rate").is_visible()
