"""The initiatives board in a real Chromium: a card dragged to another column moves the
initiative (HTML5 drag and drop in plans.js, CSP-clean); the same move from the keyboard
with the card's state select and Move button; the CLI sees both."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from kith.web.tests.browser.conftest import MEMBER, LiveKith, sign_in

GRIP = {"x": 8, "y": 6}  # the card's title, where a drag starts (not its Move form)


def _cli_json(live: LiveKith, *args: str) -> Any:
    done = live.kith(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _state(live: LiveKith, plan: str, initiative: str) -> dict[str, Any]:
    view = _cli_json(live, "plan", "show", plan)
    return next(i for i in view["initiatives"] if i["id"] == initiative)


def test_drag_a_card_and_move_one_from_the_keyboard(page: Any, live: LiveKith) -> None:
    tag = uuid.uuid4().hex[:6]
    account = _cli_json(live, "org", "add", f"Board Org {tag}")
    plan = _cli_json(live, "plan", "add", account["id"], "--name", f"Board plan {tag}")
    goal = _cli_json(live, "goal", "add", plan["id"], f"Expand {tag}")
    pilot = _cli_json(live, "initiative", "add", goal["id"], f"Pilot {tag}")
    brief = _cli_json(live, "initiative", "add", goal["id"], f"Briefing {tag}")

    sign_in(page, MEMBER)
    page.goto(f"/plans/{plan['id']}")
    board = page.locator(".board.board-live")
    card = board.locator(f"#card-{pilot['id']}")
    planned = board.locator(".board-col[data-state=planned]")
    doing = board.locator(".board-col[data-state=in_progress]")
    assert planned.locator(".board-card").count() == 2
    # drag the pilot to "in progress": moved on the page without a reload, and in the data
    page.evaluate("window.__same = true")
    card.drag_to(doing, source_position=GRIP)
    doing.locator(f"#card-{pilot['id']}").wait_for()
    page.get_by_role("status").get_by_text(f"Pilot {tag} is in progress.").wait_for()
    assert page.evaluate("window.__same") is True  # no page load happened
    assert doing.locator(".board-count").inner_text() == "1"
    assert planned.locator(".board-count").inner_text() == "1"
    assert _state(live, plan["id"], pilot["id"])["state"] == "in_progress"
    # and on to done: closed as achieved
    card.drag_to(board.locator(".board-col[data-state=done]"), source_position=GRIP)
    board.locator(f".board-col[data-state=done] #card-{pilot['id']}").wait_for()
    got = _state(live, plan["id"], pilot["id"])
    assert (got["state"], got["closure"]) == ("done", "achieved")

    # from the keyboard: the card's select and its Move button (a form post, no script needed)
    select = page.get_by_label(f"Move Briefing {tag} to")
    select.focus()
    select.select_option("cancelled")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_text(f"Briefing {tag} is cancelled.").wait_for()
    page.wait_for_url(re.compile(rf"/plans/{plan['id']}$"))
    page.locator(f".board-col[data-state=cancelled] #card-{brief['id']}").wait_for()
    got = _state(live, plan["id"], brief["id"])
    assert (got["state"], got["closure"]) == ("cancelled", "cancelled")
