"""Finding people: the keyboard search from any page, and the People list with filters,
column choice and a saved view."""

from __future__ import annotations

import json
import re
from typing import Any

from kith.web.tests.browser.conftest import MEMBER, LiveKith, sign_in


def _first(live: LiveKith, type_key: str) -> dict[str, Any]:
    done = live.kith("list", "--type", type_key, "--limit", "1", "--json")
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)[0]
    return found


def test_slash_type_arrow_enter_opens_the_record(page: Any, live: LiveKith) -> None:
    person = _first(live, "person")
    sign_in(page)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "global-search"
    page.keyboard.type(person["name"])
    first = page.locator("#search-results a").first
    first.wait_for()
    assert person["name"] in first.inner_text()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('#search-results') !== null")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/records/{person['id']}")


def test_people_filter_columns_and_a_saved_view(page: Any, live: LiveKith) -> None:
    org = _first(live, "organization")
    sign_in(page, MEMBER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    page.wait_for_url("**/people")
    total = page.locator("#list-count").inner_text()
    page.locator("#list-org").fill(org["name"])
    page.locator("#list-org").press("Enter")
    page.wait_for_url(re.compile(r"org="))
    page.wait_for_function("t => document.getElementById('list-count').innerText !== t", arg=total)
    rows = page.locator("#list-table tbody tr").count()
    assert rows >= 1
    page.locator("input[name=cols][value=phone]").check()
    page.locator("#list-table th", has_text="Phone").wait_for()
    page.locator("input[name=cols][value=email]").uncheck()
    page.wait_for_function(
        "() => ![...document.querySelectorAll('#list-table th')].some(t => t.innerText === 'EMAIL' || t.innerText === 'Email')"
    )
    assert "cols=phone" in page.url
    page.get_by_label("Save this view as").fill("My org, phones")
    page.get_by_role("button", name="Save view").click()
    page.get_by_role("status").filter(has_text="Saved the view").wait_for()
    page.goto("/people")
    assert page.locator("#list-table th", has_text="Phone").count() == 0
    saved = page.locator("#saved-views")
    # the view's own link by its exact name: its CSV export link's name contains the view's name
    export = saved.get_by_role("link", name="Export the saved view My org, phones as CSV")
    assert export.count() == 1 and export.inner_text() == "CSV"
    saved.get_by_role("link", name="My org, phones", exact=True).click()
    page.wait_for_url(re.compile(r"org="))
    page.locator("#list-table th", has_text="Phone").wait_for()
    assert page.locator("#list-table tbody tr").count() == rows
    assert page.locator("#list-org").input_value() == org["name"]
