"""Journeys of issue 11 (part B) in a real Chromium: the command palette and the keyboard, the
record page's summary header, and the as-of page showing old field values."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import uuid
from typing import Any

import psycopg

from kith.web.tests.browser.conftest import MEMBER, LiveKith, sign_in


def _cli_json(live: LiveKith, *args: str) -> Any:
    done = live.kith(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _backdate(live: LiveKith, record_id: str, when: str) -> None:
    """Move a record's creation (and its history's create entry) back to ``when``: setting up a
    record that has existed for a while, on the server's own database."""
    sql = [
        ("UPDATE records_record SET created_at = %s WHERE id = %s", (when, record_id)),
        (
            "UPDATE core_change SET at = %s WHERE entity_id = %s AND action = 'create'",
            (when, record_id),
        ),
    ]
    if live.db.startswith("sqlite"):
        with sqlite3.connect(live.db.removeprefix("sqlite:///")) as conn:
            for text, params in sql:
                conn.execute(text.replace("%s", "?"), (params[0].replace("T", " "), params[1]))
        return
    with psycopg.connect(live.db) as conn:
        for text, params in sql:
            conn.execute(text, params)


def test_palette_goes_to_a_record_and_runs_an_action(page: Any, live: LiveKith) -> None:
    tag = uuid.uuid4().hex[:6]
    person = _cli_json(live, "person", "add", f"Palette Pat {tag}")
    sign_in(page, MEMBER)
    page.keyboard.press("Control+k")
    dialog = page.locator("#palette")
    dialog.wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "palette-input"
    page.keyboard.type(f"Palette Pat {tag}")
    first = page.locator("#palette-results a.palette-item").first
    first.wait_for()
    assert f"Palette Pat {tag}" in first.inner_text()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/records/{person['id']}")
    assert page.locator("h1").inner_text() == f"Palette Pat {tag}"

    # run an action of this page: its history
    page.keyboard.press("Control+k")
    page.keyboard.type("history of")
    page.locator("#palette-results a.palette-item", has_text="History of").first.wait_for()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/records/{person['id']}/history")

    # g o goes to the organisations, ? lists the shortcuts, Escape closes them
    page.keyboard.press("g")
    page.keyboard.press("o")
    page.wait_for_url("**/orgs")
    page.keyboard.press("?")
    page.locator("#shortcuts").wait_for(state="visible")
    assert "Go to people" in page.locator("#shortcuts").inner_text()
    page.keyboard.press("Escape")
    page.locator("#shortcuts").wait_for(state="hidden")
    page.keyboard.press("g")
    page.keyboard.press("p")
    page.wait_for_url("**/people")

    # the palette opened from the header button, closed with Escape; a miss says so
    page.get_by_role("button", name="Open the command palette").click()
    dialog.wait_for(state="visible")
    page.keyboard.type(f"zz no such record {tag}")
    page.locator("#palette-results .palette-none").wait_for()
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")


def test_summary_header_says_what_the_intelligence_knows(page: Any, live: LiveKith) -> None:
    orgs = _cli_json(live, "best", "--type", "organization", "--limit", "1")
    org = orgs[0]
    tag = uuid.uuid4().hex[:6]
    staff = _cli_json(live, "list", "--type", "person", "--limit", "1")[0]
    later = (dt.date.today() + dt.timedelta(days=9)).isoformat()  # noqa: TID251 (the server's day)
    _cli_json(
        live, "log", "meeting", "--with", staff["id"], "--link", org["id"],
        "--at", f"{later}T10:00:00Z", "--subject", f"Planned review {tag}",
    )  # fmt: skip
    sign_in(page, MEMBER)
    page.goto(f"/records/{org['id']}")
    head = page.locator("#summary")
    assert re.fullmatch(r"\d+", head.locator(".summary-score").inner_text())
    assert head.locator(".band").first.inner_text() == org["band"]
    assert head.get_by_text("Last two-way contact").is_visible()
    knowers = head.locator(".knower")
    assert knowers.count() >= 1
    assert re.search(r"\d+", knowers.first.locator(".band").inner_text())
    assert f"Planned review {tag}" in head.inner_text()
    assert re.search(r"in (\d+ days|1 week)", head.inner_text())
    # the sparkline arrives with the health trend, drawn by the server as SVG
    page.wait_for_selector("#summary-spark svg.spark-health polyline")
    # the exact date is on hover of a relative one
    stamp = head.locator("time").first
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?", stamp.get_attribute("title") or "")
    # who knows whom: our people by their people, with strengths
    grid = page.locator("#who-knows-whom table")
    grid.wait_for()
    assert grid.locator("thead th").count() >= 2
    assert grid.locator("tbody .band").count() >= 1
    # the id is out of sight, copyable on demand
    assert org["id"] not in page.locator(".record-head h1").inner_text()
    page.get_by_role("button", name="Copy id").click()
    page.locator("button.copy-id", has_text=org["id"]).wait_for()


def test_as_of_page_shows_old_field_values_without_edit_links(page: Any, live: LiveKith) -> None:
    tag = uuid.uuid4().hex[:6]
    person = _cli_json(live, "person", "add", f"Old Name {tag}", "--email", f"old{tag}@x.example")
    _backdate(live, person["id"], "2025-01-01T09:00:00+00:00")
    sign_in(page, MEMBER)
    page.goto(f"/records/{person['id']}")
    page.get_by_role("link", name="Edit name").click()
    page.get_by_label("Name (required)").fill(f"New Name {tag}")
    page.get_by_role("button", name="Save").click()
    page.locator("#field-name").get_by_text(f"New Name {tag}").wait_for()

    page.get_by_label("Show as of").fill("2025-06-01")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*as_of=2025-06-01"))
    assert page.locator("h1").inner_text() == f"Old Name {tag}"
    fields = page.locator("#fields")
    assert "Details on 2025-06-01" in fields.inner_text()
    assert f"Old Name {tag}" in fields.inner_text() and "New Name" not in fields.inner_text()
    assert fields.get_by_role("link", name=re.compile("^Edit")).count() == 0
    assert page.locator("#as-of-notice").is_visible()
    page.get_by_role("link", name="Back to today").click()
    page.wait_for_url(f"**/records/{person['id']}")
    assert page.locator("h1").inner_text() == f"New Name {tag}"
    # before it was added, the page says so
    page.goto(f"/records/{person['id']}?as_of=2024-06-01")
    assert "was not in Kith yet on 2024-06-01" in page.locator("#as-of-notice").inner_text()
