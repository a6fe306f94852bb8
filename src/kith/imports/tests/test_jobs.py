"""The import check writes nothing and finds the import's bad rows; imports are audited
alike by the CLI, the API and the web."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kith.accounts.selectors import audit_page, get_user
from kith.accounts.services import add_user, create_token
from kith.core.errors import ValidationError
from kith.core.viewer import SYSTEM
from kith.imports import jobs
from kith.imports.selectors import check_file
from kith.imports.services import import_file
from kith.records.models import Record
from kith.testing import make_person

ROWS = (
    "Name,Email,Company\n"
    "Ada Lovelace,ada@engines.example,Analytical Engines\n"
    "Bad Email,not-an-email,\n"
    "Grace Hopper,grace@navy.example,US Navy\n"
)
WRITES = ("INSERT", "UPDATE", "DELETE", "SAVEPOINT", "RELEASE", "ROLLBACK")


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)
    ]


def test_check_finds_the_bad_rows_an_import_finds_and_writes_nothing(tmp_path: Path) -> None:
    make_person("Ada Lovelace", email="ada@engines.example")  # a match the check must not report
    path = tmp_path / "people.csv"
    path.write_text(ROWS)
    records = Record.objects.count()
    with CaptureQueriesContext(connection) as queries:
        checked = check_file(path=str(path))
    assert _writes(queries) == []
    assert Record.objects.count() == records
    dry = import_file(
        viewer=SYSTEM, path=str(path), dry_run=True, skip_bad=True, reject=str(tmp_path / "r")
    )
    assert checked["bad"] == dry["bad"] and checked["bad_count"] == dry["bad_count"] == 1
    assert checked["bad"][0]["value"] == "not-an-email"
    for key in ("units", "imported", "columns", "ignored_columns", "preset", "warnings"):
        assert checked[key] == dry[key], key
    assert checked["units"] == 3 and checked["imported"] == 2
    assert checked["counts"] == {"organizations_named": 2, "person_in_file": 2}
    assert "person_matched" not in checked["counts"]  # matching reads what the user may not see


def test_check_of_a_file_with_nothing_in_it_is_a_clear_error(tmp_path: Path) -> None:

    path = tmp_path / "empty.csv"
    path.write_text("Name,Email\n")
    with pytest.raises(ValidationError, match=r"empty\.csv: nothing to import"):
        check_file(path=str(path))


def _import_entries() -> list[dict[str, Any]]:
    rows, _ = audit_page(action="import")
    return sorted(rows, key=lambda r: r["detail"]["via"])


def test_cli_api_and_web_imports_are_audited_alike(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setenv("KITH_RATE_LIMIT", "0")
    monkeypatch.setattr(jobs, "launch_import_job", jobs.run_import_job)  # in this thread
    monkeypatch.setenv("KITH_USER", "cli-user")
    add_user(email="member@our.test", role="member", password="correct horse battery")
    _, token = create_token(email="member@our.test")
    data = b"Name,Email\nOne,one@x.example\n"

    path = tmp_path / "people.csv"
    path.write_bytes(data)
    code, _, err = cli("import", str(path))
    assert code == 0, err

    resp = Client().post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile("people.csv", data.replace(b"one", b"two"))},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert resp.status_code == 200, resp.content

    web = Client()
    web.force_login(get_user("member@our.test"))
    resp = web.post(
        "/import", {"file": SimpleUploadedFile("people.csv", data.replace(b"one", b"three"))}
    )
    assert resp.status_code == 302, resp.content.decode()[:500]
    job_id = resp["Location"].rsplit("/", 1)[1]
    assert web.post(f"/import/{job_id}/start").status_code == 302

    entries = _import_entries()
    assert [e["detail"]["via"] for e in entries] == ["api", "cli", "web"]
    assert [e["actor"] for e in entries] == ["member@our.test", "cli-user", "member@our.test"]
    details = [{k: v for k, v in e["detail"].items() if k != "via"} for e in entries]
    assert details[0] == details[1] == details[2]  # the same entry, whichever interface
    assert [e["target"] for e in entries] == ["people.csv"] * 3
    assert details[0]["counts"]["person_created"] == 1
    assert {k: details[0][k] for k in ("format", "status", "dry_run", "bad")} == {
        "format": "csv",
        "status": "done",
        "dry_run": False,
        "bad": 0,
    }


def test_a_failed_import_is_audited_too(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("Name,Email\nBad,not-an-email\n")
    code, _, _ = cli("import", str(path))
    assert code == 1
    (entry,) = _import_entries()
    assert entry["detail"]["status"] == "failed" and entry["detail"]["bad"] == 1


def test_check_warns_of_what_an_import_would_leave_out(tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    emails = [f"m{i}@many.example" for i in range(53)]
    path.write_text(json.dumps({"records": [{"name": "Many Mails", "emails": emails}]}))
    checked = check_file(path=str(path))
    dry = import_file(viewer=SYSTEM, path=str(path), dry_run=True)
    assert checked["warnings"] == dry["warnings"]
    assert any("left out 3 more" in w for w in checked["warnings"])
