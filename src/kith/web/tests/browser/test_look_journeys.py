"""The look in a real Chromium (issue 11 defects): no sideways page scroll on a 390 px phone,
badges on one line at 1366 px, map labels that never overlap."""

from __future__ import annotations

import json
from typing import Any

from kith.web.tests.browser.conftest import MEMBER, LiveKith, sign_in

WIDE_BADGES = """() => Array.from(document.querySelectorAll('main .band, main .tag'))
  .filter(el => el.offsetParent !== null && el.getClientRects().length > 1)
  .map(el => el.textContent.trim())"""

OVERLAPS = """() => {
  const cy = window.kithMap;
  const boxes = cy.nodes().filter(n => n.visible() && !n.hasClass('nolabel'))
    .map(n => [n.data('label'), n.boundingBox({includeNodes: false, includeEdges: false,
                                               includeLabels: true})])
    .filter(([, b]) => b.w > 0);
  const out = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i][1], b = boxes[j][1];
      if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2)
        out.push(boxes[i][0] + ' / ' + boxes[j][0]);
    }
  return {labelled: boxes.length, overlaps: out};
}"""


def _busiest(live: LiveKith, type_key: str) -> dict[str, Any]:
    done = live.kith("best", "--type", type_key, "--limit", "1", "--json")
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)[0]
    return found


def test_a_phone_never_scrolls_the_page_sideways(browser: Any, live: LiveKith) -> None:
    org = _busiest(live, "organization")
    person = _busiest(live, "person")
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live.base)
    page = context.new_page()
    try:
        sign_in(page, MEMBER)
        for url in (
            "/",
            "/people",
            "/orgs",
            "/best",
            "/at-risk",
            f"/records/{org['id']}",
            f"/records/{person['id']}",
        ):
            page.goto(url)
            page.wait_for_load_state("networkidle")
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 390, f"{url} is {wide} px wide on a 390 px screen"
    finally:
        context.close()


def test_badges_stay_on_one_line_at_1366(browser: Any, live: LiveKith) -> None:
    org = _busiest(live, "organization")
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=live.base)
    page = context.new_page()
    try:
        sign_in(page, MEMBER)
        for url in ("/", "/people?sort=-health", "/orgs", "/best", f"/records/{org['id']}"):
            page.goto(url)
            page.wait_for_load_state("networkidle")
            assert page.evaluate(WIDE_BADGES) == [], url
    finally:
        context.close()


def test_map_labels_never_overlap(page: Any, live: LiveKith) -> None:
    org = _busiest(live, "organization")
    sign_in(page, MEMBER)
    page.goto(f"/records/{org['id']}/map")
    page.wait_for_selector("#map[data-ready='true']")
    found = page.evaluate(OVERLAPS)
    assert found["labelled"] >= 2
    assert found["overlaps"] == []


def test_the_icon_set_is_served_by_kith(page: Any, live: LiveKith) -> None:
    sign_in(page, MEMBER)
    uses = page.locator("nav.nav svg.icon use")
    assert uses.count() >= 5
    href = uses.first.get_attribute("href") or ""
    assert href.startswith("/static/vendor/icons.svg#")
    sprite = page.request.get(live.base + href.split("#")[0])
    assert sprite.status == 200 and f'<symbol id="{href.split("#")[1]}"' in sprite.text()
    box = page.locator("nav.nav svg.icon").first.bounding_box()
    assert box is not None and box["width"] > 0
