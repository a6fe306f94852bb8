"""A deal's journey in a real Chromium: a deal created from an account's page, dragged
across the pipeline board, the funnel counting the move and the sales dashboard's open
pipeline (a starter dashboard of the demo) growing by the deal's amount."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from kith.web.tests.browser.conftest import MEMBER, LiveKith, sign_in


def _entries(page: Any, stage: str) -> int:
    page.goto("/funnel")
    row = page.locator(
        "table.funnel-table tr", has=page.get_by_role("link", name=stage, exact=True)
    )
    return int(float(row.locator("td").first.inner_text()))


def _open_pipeline(page: Any) -> float:
    page.goto("/dashboards/sales")
    widget = page.locator("section.widget", has=page.get_by_role("link", name="Open pipeline"))
    return float(widget.locator("p.widget-value strong").inner_text())


def test_deal_from_account_board_drag_and_funnel(page: Any, live: LiveKith) -> None:
    tag = uuid.uuid4().hex[:6]
    done = live.kith("org", "add", f"Deal Journey Org {tag}", "--json")
    assert done.returncode == 0, done.stderr
    org = json.loads(done.stdout)

    sign_in(page, MEMBER)
    open_before = _open_pipeline(page)
    page.goto(f"/records/{org['id']}")
    section = page.locator("#record-deals")
    section.get_by_text("New deal").click()
    section.get_by_label("Name", exact=True).fill(f"Journey deal {tag}")
    section.get_by_label("Amount", exact=True).fill("2500")
    section.get_by_label("Source", exact=True).fill("journey")
    section.get_by_role("button", name="Add deal").click()
    page.wait_for_url(re.compile(r"/records/del_"))
    deal_id = page.url.rsplit("/", 1)[1]
    page.locator("#record-deals").get_by_text("lead").first.wait_for()
    page.locator("#record-deals").get_by_role("link", name=f"Deal Journey Org {tag}").wait_for()

    before = _entries(page, "qualified")
    page.get_by_role("link", name="Deals", exact=True).first.click()
    page.wait_for_url(re.compile(r"/deals"))
    card = page.locator(f'li.deal-card[data-deal="{deal_id}"]')
    assert card.locator("xpath=ancestor::section[1]").get_attribute("data-stage") == "lead"
    # from the card's top edge (its middle is its move form's controls)
    card.drag_to(
        page.locator('section.board-col[data-stage="qualified"]'),
        source_position={"x": 4, "y": 3},
    )
    page.wait_for_load_state("load")
    moved = page.locator(
        f'section.board-col[data-stage="qualified"] li.deal-card[data-deal="{deal_id}"]'
    )
    moved.wait_for()
    page.get_by_text(f"Journey deal {tag} moved to qualified.").wait_for()

    assert _entries(page, "qualified") == before + 1
    assert _open_pipeline(page) == open_before + 2500
    assert page.locator("svg.funnel-chart rect.funnel-bar").count() >= 4
    shown = live.kith("deal", "show", deal_id, "--json")
    history = json.loads(shown.stdout)["history"]
    assert [(h["from"], h["to"]) for h in history] == [(None, "lead"), ("lead", "qualified")]
