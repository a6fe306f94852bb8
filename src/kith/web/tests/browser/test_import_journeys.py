"""Journeys: import a CSV (preview, adjust the mapping, watch it run, read the report) and
merge a duplicate then undo it, in a real Chromium against `kith serve`."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from kith.web.tests.browser.conftest import MEMBER, LiveKith, sign_in


def test_import_a_csv_with_preview_mapping_progress_and_report(
    page: Any, live: LiveKith, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    csv_file = tmp_path / f"contacts-{tag}.csv"
    csv_file.write_text(
        "Name,Email,Company,Nick\n"
        f"Imported Ivy {tag},ivy{tag}@imports.example,Import Works {tag},green thumb\n"
        f"Imported Oak {tag},oak{tag}@imports.example,Import Works {tag},\n"
        f"Imported Elm {tag},elm{tag}@imports.example,,tall\n",
        encoding="utf-8",
    )
    sign_in(page, MEMBER)
    page.goto("/import")
    page.get_by_label(re.compile(r"^File")).set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(re.compile(r"/import/imp_"))

    # the preview: format, preset, the mapping and sample values, and a dry run
    assert "Format csv, preset generic" in page.locator("#read-h + p").inner_text()
    nick = page.get_by_label("Kith field for the column Nick")
    assert nick.input_value() == "ignore"
    assert page.get_by_label("Kith field for the column Email").input_value() == "email"
    page.locator("#import-check").get_by_text("No bad rows.").wait_for()
    assert "3 people" in page.locator("#import-check").inner_text()

    # adjust one column, then start and watch it finish
    nick.select_option("note")
    page.get_by_role("button", name="Start import").click()
    page.get_by_role("heading", name="Imported").wait_for(timeout=20_000)
    report = page.locator(".import-report").inner_text()
    assert "and imported 3" in report and "3 people created" in report
    assert "1 organisations created" in report

    # open an imported person: the mapped column became their notes
    page.get_by_role("link", name=f"Imported Ivy {tag}").click()
    page.wait_for_url(re.compile(r"/records/per_"))
    assert page.locator("h1").inner_text() == f"Imported Ivy {tag}"
    assert "green thumb" in page.locator("main").inner_text()


def test_merge_a_duplicate_then_undo(page: Any, live: LiveKith) -> None:
    tag = uuid.uuid4().hex[:6]
    ids = []
    phone = f"+1 202 555 {int(tag, 16) % 10_000:04d}"  # the same phone: one human, two records
    for name, email in (
        (f"Dana Dup {tag}", f"dana{tag}@dup.example"),
        (f"Dana Dupe {tag}", f"d{tag}@home.example"),
    ):
        done = live.kith("person", "add", name, "--email", email, "--phone", phone, "--json")
        assert done.returncode == 0, done.stderr
        ids.append(json.loads(done.stdout)["id"])
    sign_in(page, MEMBER)
    page.goto("/duplicates")
    page.get_by_role("link", name=f"Compare Dana Dup {tag} and Dana Dupe {tag}").click()
    page.wait_for_url(re.compile(r"/duplicates/pair\?"))
    table = page.locator("table.dupe-pair").inner_text()
    assert f"dana{tag}@dup.example" in table and f"d{tag}@home.example" in table
    assert "Interactions" in table

    # swap which one stays, swap back, then merge
    page.get_by_role("link", name=f"Swap: keep Dana Dupe {tag} instead").click()
    page.get_by_role("button", name=f"Merge Dana Dup {tag} into Dana Dupe {tag}").wait_for()
    page.get_by_role("link", name=f"Swap: keep Dana Dup {tag} instead").click()
    page.get_by_role("button", name=f"Merge Dana Dupe {tag} into Dana Dup {tag}").click()
    page.get_by_text(f"Merged Dana Dupe {tag} into Dana Dup {tag}.").wait_for()
    shown = json.loads(live.kith("show", ids[1], "--json").stdout or "{}")
    assert shown.get("merged_into") == ids[0], shown

    # undo brings both back
    page.get_by_role("button", name="Undo this merge").click()
    page.wait_for_url(re.compile(r"/duplicates$"))
    page.get_by_text(
        f"Undone: Dana Dup {tag} and Dana Dupe {tag} are two records again."
    ).wait_for()
    shown = json.loads(live.kith("show", ids[1], "--json").stdout or "{}")
    assert shown.get("merged_into") is None and shown.get("deleted_at") is None, shown
