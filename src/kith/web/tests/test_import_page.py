"""Import pages: upload, preview and mapping, start, progress, report, rejects; bad uploads."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kith.accounts.services import add_user
from kith.core import clock, worker
from kith.core.models import Change
from kith.imports import jobs
from kith.imports import jobs as services
from kith.imports.jobs import start_import_job
from kith.imports.models import ImportJob
from kith.imports.selectors import (
    IMPORT_STALE_SECONDS,
    import_beat_path,
    import_preview,
    import_status,
)
from kith.records.models import Record

FIX = Path(__file__).resolve().parents[2] / "imports" / "tests" / "fixtures"
PEOPLE = (
    "Name,Email,Company,Job Title,Nick\n"
    "Ada Lovelace,ada@engines.example,Analytical Engines,Analyst,countess\n"
    "<script>alert(1)</script>,xss@evil.example,Evil Corp,,\n"
    "Grace Hopper,grace@navy.example,US Navy,Rear Admiral,amazing grace\n"
)
BAD = "Name,Email\nGood One,good@one.example\nBad Email,not-an-email\nGood Two,good@two.example\n"


def _upload(client: Client, name: str, data: bytes, **extra: str) -> Any:
    return client.post("/import", {"file": SimpleUploadedFile(name, data), **extra})


def _job(client: Client, name: str = "people.csv", data: str = PEOPLE) -> ImportJob:
    resp = _upload(client, name, data.encode())
    assert resp.status_code == 302, resp.content.decode()[:2000]
    job_id = resp["Location"].rsplit("/", 1)[1]
    return ImportJob.objects.get(pk=job_id)


@pytest.fixture
def sync_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run started jobs in the request's thread (the test's transaction sees them)."""

    monkeypatch.setattr(jobs, "launch_import_job", jobs.run_import_job)


def _column(job: ImportJob, header: str) -> int:

    return next(c["index"] for c in import_preview(job)["columns"] if c["header"] == header)


# -- upload and preview ---------------------------------------------------------------------


def test_upload_page_lists_formats_and_needs_csrf(make_client: Callable[..., Client]) -> None:
    member = make_client("member", csrf=True)
    resp = member.get("/import")
    page = resp.content.decode()
    assert resp.status_code == 200
    assert 'enctype="multipart/form-data"' in page and "csrfmiddlewaretoken" in page
    assert '<label for="import-file">' in page and "Outlook CSV" in page
    assert _upload(member, "a.csv", PEOPLE.encode()).status_code == 403  # no token


def test_preview_shows_format_mapping_samples_escaped(member: Client) -> None:
    job = _job(member)
    assert job.status == "preview" and job.fmt == "csv" and job.filename == "people.csv"
    page = member.get(f"/import/{job.pk}").content.decode()
    assert "Format <strong>csv</strong>" in page and "preset <strong>generic</strong>" in page
    # each column has a labelled select; detected targets are preselected
    assert '<label class="sr-only" for="map-1">' in page
    assert '<option value="email" selected>Email (detected)</option>' in page
    assert '<option value="org" selected>Organisation (detected)</option>' in page
    assert '<option value="ignore" selected>Do not import (detected)</option>' in page  # Nick
    assert "ada@engines.example" in page and "Analytical Engines" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page
    assert f'hx-get="/import/{job.pk}/check"' in page


def test_check_validates_and_writes_nothing(member: Client) -> None:

    job = _job(member)
    before = Record.objects.count()
    with CaptureQueriesContext(connection) as queries:
        page = member.get(f"/import/{job.pk}/check", HTTP_HX_REQUEST="true").content.decode()
    assert "A check read 3 rows (nothing was written)" in page
    assert '<strong class="num">3</strong> people' in page
    assert '<strong class="num">3</strong> organisations named' in page and "No bad rows." in page
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "SAVEPOINT"))
    ]
    assert writes == []  # a GET writes nothing: no import run and rolled back
    assert Record.objects.count() == before


def test_check_lists_bad_rows_and_says_all_or_nothing(member: Client) -> None:
    job = _job(member, "bad.csv", BAD)
    page = member.get(f"/import/{job.pk}/check").content.decode()
    assert "1 bad row." in page and "nothing will be imported" in page
    assert "line 3" in page and "not-an-email" in page and "<td>Email</td>" in page


def test_adjust_mapping_then_start_and_report(member: Client, sync_runs: None) -> None:
    job = _job(member)
    nick = _column(job, "Nick")
    title = _column(job, "Job Title")
    resp = member.post(
        f"/import/{job.pk}/options", {f"map-{nick}": "note", f"map-{title}": "title"}
    )
    assert resp.status_code == 302
    job.refresh_from_db()
    assert job.options["mapping"] == ["Nick=note"]  # only what differs from detection
    page = member.get(f"/import/{job.pk}").content.decode()
    assert '<option value="note" selected>Notes</option>' in page and "changed" in page
    resp = member.post(f"/import/{job.pk}/options", {f"map-{nick}": "note", "action": "start"})
    assert resp.status_code == 302
    job.refresh_from_db()
    assert job.status == "done", job.report
    ada = Record.objects.get(name="Ada Lovelace")
    assert ada.fields["notes"] == "countess"
    page = member.get(f"/import/{job.pk}").content.decode()
    assert "and imported 3" in page and "people created" in page
    assert f'href="/records/{ada.id}"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    # the same report is what the polling fragment ends with
    frag = member.get(f"/import/{job.pk}/progress", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="import-live"' in frag and "hx-trigger" not in frag and "people created" in frag
    assert 'id="import-status" hx-swap-oob="true"' in frag and ">done</span>" in frag
    # history says who imported

    actor = Change.objects.filter(entity_id=ada.id, action="create").get().actor
    assert actor == "member1@our.test"
    # started once only
    assert member.post(f"/import/{job.pk}/start").status_code == 400


def test_unknown_mapping_target_is_refused_next_to_the_column(member: Client) -> None:
    job = _job(member)
    nick = _column(job, "Nick")
    resp = member.post(f"/import/{job.pk}/options", {f"map-{nick}": "shoe_size"})
    page = resp.content.decode()
    assert resp.status_code == 400
    assert f'<p class="field-error" id="err-map-{nick}">' in page and "shoe_size" in page
    assert f'aria-describedby="err-map-{nick}"' in page
    job.refresh_from_db()
    assert job.options.get("mapping") in (None, [])


def test_all_or_nothing_by_default(member: Client, sync_runs: None) -> None:
    job = _job(member, "bad.csv", BAD)
    before = Record.objects.count()
    assert member.post(f"/import/{job.pk}/start").status_code == 302
    job.refresh_from_db()
    assert job.status == "failed"
    assert Record.objects.count() == before  # the good rows were not written either
    page = member.get(f"/import/{job.pk}").content.decode()
    assert "Nothing was imported" in page and "All or nothing" in page
    assert "line 3" in page and "not-an-email" in page
    assert "Change the options and try again" in page
    # back to the preview, skip the bad row, and the reject file comes back for fixing
    assert member.post(f"/import/{job.pk}/retry").status_code == 302
    resp = member.post(f"/import/{job.pk}/options", {"skip_bad": "on", "action": "start"})
    assert resp.status_code == 302
    job.refresh_from_db()
    assert job.status == "done" and job.report["bad_count"] == 1
    assert Record.objects.filter(name__in=["Good One", "Good Two"]).count() == 2
    page = member.get(f"/import/{job.pk}").content.decode()
    assert "Rejected rows (1)" in page and "Download the rejected rows" in page
    resp = member.get(f"/import/{job.pk}/rejects")
    assert resp.status_code == 200 and resp["Content-Type"] == "text/csv"
    assert 'filename="bad.rejects.csv"' in resp["Content-Disposition"]
    body = resp.content.decode()
    assert body.splitlines() == ["Name,Email", "Bad Email,not-an-email"]
    # fixed and imported again
    again = _job(member, "bad.rejects.csv", body.replace("not-an-email", "bad@fixed.example"))
    member.post(f"/import/{again.pk}/start")
    again.refresh_from_db()
    assert again.status == "done"
    assert Record.objects.filter(name="Bad Email").exists()


def test_vcard_and_calendar_preview_and_import(member: Client, sync_runs: None) -> None:
    job = _job(member, "cards.vcf", (FIX / "cards.vcf").read_text(encoding="utf-8"))
    assert job.fmt == "vcard"
    page = member.get(f"/import/{job.pk}").content.decode()
    assert "The first items" in page and "card 1" in page
    member.post(f"/import/{job.pk}/start")
    job.refresh_from_db()
    assert job.status == "done" and job.report["counts"].get("person_created", 0) >= 1
    cal = _job(member, "meetings.ics", (FIX / "meetings.ics").read_text(encoding="utf-8"))
    page = member.get(f"/import/{cal.pk}").content.decode()
    assert cal.fmt == "ics" and "Keep message and event bodies" in page


def test_xlsx_rejects_download_as_a_workbook(member: Client, sync_runs: None) -> None:

    from openpyxl import Workbook, load_workbook  # noqa: PLC0415 - openpyxl is slow to import

    wb = Workbook()
    ws = wb.active
    ws.append(["Name", "Email"])
    ws.append(["Sheet Person", "sheet@person.example"])
    ws.append(["Broken", "nope"])
    out = io.BytesIO()
    wb.save(out)
    resp = _upload(member, "book.xlsx", out.getvalue())
    job = ImportJob.objects.get(pk=resp["Location"].rsplit("/", 1)[1])
    assert job.fmt == "xlsx"
    member.post(f"/import/{job.pk}/options", {"skip_bad": "on", "action": "start"})
    resp = member.get(f"/import/{job.pk}/rejects")
    assert resp.status_code == 200 and 'filename="book.rejects.xlsx"' in resp["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(resp.content)).active.iter_rows(values_only=True))
    assert rows == [("Name", "Email"), ("Broken", "nope")]


# -- bad uploads ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "empty.csv is empty"),
        ("blank.csv", b"   \n\n", "the file is empty"),
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
        ("cards.vcf", b"FN:No Begin\nEMAIL:x@y.example\n", "no BEGIN:VCARD"),
        ("notes.csv", b"just some words\nand more words\n", "no header row"),
        ("archive.zip", b"PK\x03\x04" + b"\x00" * 64, "unpack"),
        ("data.json", b"{not json", "not valid JSON"),
    ],
)
def test_bad_uploads_say_why_and_keep_nothing(
    member: Client, name: str, data: bytes, message: str
) -> None:
    resp = _upload(member, name, data)
    page = resp.content.decode()
    assert resp.status_code == 400, page[:500]
    assert message in page, page[:3000]
    assert 'aria-describedby="err-file"' in page and 'class="field-error" id="err-file"' in page
    assert "Traceback" not in page
    assert not ImportJob.objects.exists()


def test_malformed_vcard_card_is_a_bad_row(member: Client, sync_runs: None) -> None:
    text = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Fine Card\r\nEMAIL:fine@card.example\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Broken Card\r\nEMAIL:broken-at-nowhere\r\nEND:VCARD\r\n"
    )
    job = _job(member, "two.vcf", text)
    page = member.get(f"/import/{job.pk}/check").content.decode()
    assert "1 bad row." in page and "broken-at-nowhere" in page
    member.post(f"/import/{job.pk}/start")
    job.refresh_from_db()
    assert job.status == "failed" and not Record.objects.filter(name="Fine Card").exists()


def test_other_encodings_are_read(member: Client) -> None:
    text = "Name,Email\nJosé Müller,jose@umlaut.example\n"
    for data in (text.encode("cp1252"), text.encode("utf-16")):
        resp = _upload(member, "enc.csv", data)
        assert resp.status_code == 302
        job = ImportJob.objects.get(pk=resp["Location"].rsplit("/", 1)[1])
        assert "José Müller" in member.get(f"/import/{job.pk}").content.decode()


def test_too_large_upload_is_refused(member: Client, monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setattr(services, "IMPORT_MAX_BYTES", 2048)
    resp = _upload(member, "big.csv", b"Name,Email\n" + b"A Person,a@b.example\n" * 200)
    page = resp.content.decode()
    assert resp.status_code == 413
    assert "big.csv is 0.0 MB" in page and "split the file" in page
    assert not ImportJob.objects.exists()


def test_content_length_over_the_limit_is_refused(member: Client) -> None:
    resp = member.post(
        "/import", data=b"", content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(60 * 1024 * 1024),
    )  # fmt: skip
    assert resp.status_code == 413
    assert "larger than 50 MB" in resp.content.decode()
    assert not ImportJob.objects.exists()


def test_missing_file_and_bad_format(member: Client) -> None:
    resp = member.post("/import", {})
    assert resp.status_code == 400 and "Choose a file to import." in resp.content.decode()
    resp = _upload(member, "a.csv", PEOPLE.encode(), format="wordperfect")
    page = resp.content.decode()
    assert resp.status_code == 400 and "wordperfect" in page and 'id="err-format"' in page


# -- roles and privacy ----------------------------------------------------------------------


def test_viewer_reads_but_cannot_import(viewer: Client, member: Client, sync_runs: None) -> None:
    page = viewer.get("/import").content.decode()
    assert "Viewers cannot import" in page and 'type="file"' not in page
    assert _upload(viewer, "a.csv", PEOPLE.encode()).status_code == 403
    job = _job(member)
    for url in ("options", "start", "retry", "discard"):
        assert viewer.post(f"/import/{job.pk}/{url}").status_code == 403
    job.refresh_from_db()
    assert job.status == "preview"
    assert not ImportJob.objects.filter(user__username__startswith="viewer").exists()


def test_jobs_are_private_to_their_user_and_admins(
    make_client: Callable[..., Client], admin: Client
) -> None:
    alice, bob = make_client("member"), make_client("member")
    job = _job(alice)
    assert bob.get(f"/import/{job.pk}").status_code == 404
    assert bob.post(f"/import/{job.pk}/start").status_code == 404
    assert bob.get(f"/import/{job.pk}/rejects").status_code == 404
    assert "people.csv" not in bob.get("/import").content.decode()
    assert admin.get(f"/import/{job.pk}").status_code == 200
    assert "people.csv" in admin.get("/import").content.decode()
    assert alice.get("/import/nosuchjob").status_code == 404


def test_report_lists_only_records_the_user_may_see(member: Client, sync_runs: None) -> None:
    job = _job(member)
    member.post(f"/import/{job.pk}/start")
    ada = Record.objects.get(name="Ada Lovelace")
    Record.objects.filter(pk=ada.pk).update(private=True)  # someone else's now
    page = member.get(f"/import/{job.pk}").content.decode()
    assert f"/records/{ada.id}" not in page and "Grace Hopper" in page


# -- progress, stopped jobs, discard --------------------------------------------------------


def test_progress_fragment_polls_while_running(member: Client) -> None:

    job = _job(member)
    start_import_job(job=job)
    ImportJob.objects.filter(pk=job.pk).update(done=2, total=4, updated_at=clock.now())
    frag = member.get(f"/import/{job.pk}/progress", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in frag
    assert '<progress id="import-bar" max="4" value="2">' in frag and "2 of 4 read" in frag
    page = member.get(f"/import/{job.pk}").content.decode()
    assert 'id="import-live"' in page and "Importing" in page


def test_a_job_left_running_by_a_dead_process_shows_as_stopped(member: Client) -> None:

    job = _job(member)
    start_import_job(job=job)
    old = clock.now() - dt.timedelta(seconds=IMPORT_STALE_SECONDS + 5)
    ImportJob.objects.filter(pk=job.pk).update(updated_at=old)
    assert not os.path.exists(import_beat_path(job.pk))
    page = member.get(f"/import/{job.pk}").content.decode()
    assert "This import stopped" in page and "nothing was written" in page
    frag = member.get(f"/import/{job.pk}/progress").content.decode()
    assert "hx-trigger" not in frag
    assert member.post(f"/import/{job.pk}/retry").status_code == 302
    job.refresh_from_db()
    assert job.status == "preview"


def test_a_fresh_heartbeat_file_keeps_a_job_running(member: Client) -> None:

    job = _job(member)
    start_import_job(job=job)
    old = clock.now() - dt.timedelta(seconds=IMPORT_STALE_SECONDS + 5)
    ImportJob.objects.filter(pk=job.pk).update(updated_at=old)
    path = import_beat_path(job.pk)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"done": 7, "total": 9, "at": time.time()}, fh)
    try:
        job.refresh_from_db()
        assert import_status(job) == "running"
        frag = member.get(f"/import/{job.pk}/progress").content.decode()
        assert "7 of 9 read" in frag
    finally:
        os.unlink(path)


def test_discard(member: Client) -> None:
    job = _job(member)
    resp = member.post(f"/import/{job.pk}/discard")
    assert resp.status_code == 302 and not ImportJob.objects.filter(pk=job.pk).exists()
    assert "Discarded people.csv." in member.get("/import").content.decode()


def test_pages_stay_within_a_few_queries(
    member: Client, sync_runs: None, django_assert_max_num_queries: Any
) -> None:
    jobs = [_job(member) for _ in range(3)]
    member.post(f"/import/{jobs[0].pk}/start")
    for _ in range(20):
        _job(member, "more.csv", "Name\nOne More\n")
    with django_assert_max_num_queries(8):
        assert "more.csv" in member.get("/import").content.decode()
    with django_assert_max_num_queries(12):
        member.get(f"/import/{jobs[1].pk}")
    with django_assert_max_num_queries(12):
        member.get(f"/import/{jobs[0].pk}")
    with django_assert_max_num_queries(8):
        member.get(f"/import/{jobs[0].pk}/progress")


# -- a real background run ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_import_in_the_background(transactional_db: None) -> None:

    add_user(email="runner@our.test", role="member", password="correct horse battery")
    client = Client()
    client.force_login(User.objects.get(username="runner@our.test"))
    rows = "".join(f"Person {i},p{i}@threads.example\n" for i in range(3000))
    job = _job(client, "threads.csv", "Name,Email\n" + rows)
    assert client.post(f"/import/{job.pk}/start").status_code == 302  # queued for the worker

    def work() -> None:
        try:
            worker.Worker(concurrency=1, interval=0.05).run(once=True, inline=True)
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    # while it runs, progress is published outside the import's transaction: on SQLite
    # (whose one writer is the import) to the heartbeat file, elsewhere to the job row
    beats = []
    while thread.is_alive():
        if connection.vendor == "sqlite":
            try:
                with open(import_beat_path(job.pk), encoding="utf-8") as fh:
                    beats.append(json.load(fh))
            except (OSError, ValueError):
                pass
        else:
            beats.append(client.get(f"/import/{job.pk}/progress").content.decode())
        time.sleep(0.05)
    thread.join()
    assert beats, "no progress was seen while the import ran"
    if connection.vendor == "sqlite":
        assert beats[0]["total"] == 3001 and not os.path.exists(import_beat_path(job.pk))
    else:
        assert any('hx-trigger="every 1s"' in b for b in beats)
    frag = client.get(f"/import/{job.pk}/progress", HTTP_HX_REQUEST="true").content.decode()
    job.refresh_from_db()
    assert job.status == "done", job.report
    assert "3,000</strong> people created" in frag and "hx-trigger" not in frag
    assert Record.objects.filter(name__startswith="Person ").count() == 3000
