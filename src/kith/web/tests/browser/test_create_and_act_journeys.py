"""Journeys of acting from the web, in a real Chromium: create a person at two
organisations; correct and delete an interaction and see health follow; tag a list and
export it in bulk."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

from kith.web.tests.browser.conftest import MEMBER, LiveKith, sign_in


def _cli_json(live: LiveKith, *args: str) -> Any:
    done = live.kith(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _score(page: Any) -> float:
    return float(page.locator("#health .score").get_attribute("data-score"))


def test_create_a_person_at_two_organisations(page: Any, live: LiveKith) -> None:
    tag = uuid.uuid4().hex[:6]
    _cli_json(live, "org", "add", f"First Org {tag}")
    sign_in(page, MEMBER)
    page.goto("/people")
    page.locator("#list-new").click()
    page.wait_for_url("**/new/person")
    page.get_by_label("Name (required)").fill(f"Two Jobs {tag}")
    page.get_by_label("Email").fill(f"two{tag}@j.example")
    page.get_by_label("Organisation 1").fill(f"First Org {tag}")
    page.locator("#new-role1").fill("CTO")
    page.get_by_label("Organisation 2").fill(f"Second Org {tag}")
    page.locator("#new-role2").fill("Advisor")
    page.get_by_role("button", name="Create person").click()
    # the second organisation does not exist yet: said next to its field, nothing made
    page.locator("#err-org2").get_by_text("no record matches").wait_for()
    page.get_by_label("Create the organisations that do not exist yet").check()
    page.get_by_role("button", name="Create person").click()
    page.get_by_text(f"Created Two Jobs {tag} (and Second Org {tag}).").wait_for()
    assert page.locator("h1").inner_text() == f"Two Jobs {tag}"
    rels = page.locator("#relationships")
    for org in (f"First Org {tag}", f"Second Org {tag}"):
        assert rels.get_by_role("link", name=org).is_visible()
    person = _cli_json(live, "show", f"two{tag}@j.example")
    assert person["name"] == f"Two Jobs {tag}"


def test_correct_and_delete_an_interaction_and_see_health_follow(page: Any, live: LiveKith) -> None:
    tag = uuid.uuid4().hex[:6]
    person = _cli_json(live, "person", "add", f"Health Hal {tag}", "--email", f"hal{tag}@j.example")
    sign_in(page, MEMBER)
    page.goto(f"/records/{person['id']}")
    page.wait_for_selector("#health svg.chart")
    assert _score(page) == 0.0
    page.get_by_text("Log an interaction").click()
    page.get_by_label("Subject").fill(f"Call {tag}")
    page.get_by_label("Sentiment").select_option("positive")
    page.get_by_role("button", name="Log it").click()
    page.get_by_text("Logged the call.").wait_for()
    page.locator("#timeline").get_by_text(f"Call {tag}").wait_for()
    logged = _score(page)
    assert logged > 0.0

    # correct its subject from the timeline
    item = page.locator("#timeline li", has_text=f"Call {tag}")
    item.get_by_label("Correct or delete this call").click()
    item.get_by_label("Subject").fill(f"Corrected call {tag}")
    item.get_by_role("button", name="Save").click()
    page.get_by_text("Corrected the call.").wait_for()
    page.locator("#timeline").get_by_text(f"Corrected call {tag}").wait_for()

    # delete it: the timeline and the health score follow; undo brings both back
    item = page.locator("#timeline li", has_text=f"Corrected call {tag}")
    item.get_by_label("Correct or delete this call").click()
    item.get_by_role("button", name="Delete this call").click()
    page.get_by_text("Deleted the call.").wait_for()
    assert page.locator("#timeline").get_by_text(f"Corrected call {tag}").count() == 0
    page.wait_for_function(
        "parseFloat(document.querySelector('#health .score').dataset.score) === 0"
    )
    page.reload()
    assert _score(page) == 0.0
    timeline = _cli_json(live, "timeline", person["id"])
    assert timeline == [] or all(f"{tag}" not in (i.get("subject") or "") for i in timeline)


def test_tag_a_list_and_export_it_in_bulk(page: Any, live: LiveKith) -> None:
    tag = uuid.uuid4().hex[:6]
    ids = [
        _cli_json(live, "person", "add", f"Bulk {n} {tag}", "--email", f"b{n}{tag}@j.example")["id"]
        for n in ("Ann", "Bob", "Cy")
    ]
    sign_in(page, MEMBER)
    page.goto(f"/people?q={tag}")
    page.locator("#list-count").get_by_text("3 records").wait_for()
    page.get_by_label(f"Select Bulk Ann {tag}").check()
    page.get_by_label(f"Select Bulk Bob {tag}").check()
    page.locator("#bulk-action").select_option("tag")
    page.get_by_label("Tag, owner or value").fill(f"vip{tag}")
    page.get_by_role("button", name="Apply to the chosen records").click()
    page.get_by_text("Tagged 2 records (2 changed).").wait_for()

    # the tag filters the list; the whole list exports in bulk as CSV
    page.goto(f"/people?tag=vip{tag}")
    page.locator("#list-count").get_by_text("2 records").wait_for()
    page.get_by_label("All 2 records in this list").check()
    page.locator("#bulk-action").select_option("export-csv")
    with page.expect_download() as info:
        page.get_by_role("button", name="Apply to the chosen records").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["Name"] for r in rows) == [f"Bulk Ann {tag}", f"Bulk Bob {tag}"]
    assert {r["Tags"] for r in rows} == {f"vip{tag}"}
    with page.expect_download() as xlsx:
        page.locator("#list-export").get_by_role("link", name="Excel (XLSX)").click()
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    counts = _cli_json(live, "tags")
    assert {"tag": f"vip{tag}", "count": 2} in counts
    assert ids[2] not in {r["id"] for r in _cli_json(live, "list", "--tag", f"vip{tag}")}
