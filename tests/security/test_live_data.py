"""What a live `kith serve` reads and writes back, on SQLite and PostgreSQL: hostile files
(an XML bomb, a CSV that is not UTF-8, 100,000 columns, a card of a thousand emails, a
calendar of minutely events) answered with a clear error or a capped, reported import;
uploads spooled in the data directory, never /tmp; exported cells that are never formulas;
pages that lose nothing at a shared second; forged cursors; field names that read as filter
syntax; backups only their owner can read; a database URL whose password is never shown."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import secrets
import stat
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from kith.core.limits import MAX_CONTACTS_PER_KIND
from kith.imports.tests.hostile import NS, cells, sheet, workbook

from .conftest import Browser, Live, _b64, upload

pytestmark = pytest.mark.slow
FORMULAS = ['=HYPERLINK("http://x.example","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


@pytest.fixture(scope="module")
def system_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's /tmp (TMPDIR), watched by the upload test."""
    return tmp_path_factory.mktemp("server-tmp")


@pytest.fixture(scope="module")
def server_env(system_tmp: Path) -> dict[str, str]:
    return {"TMPDIR": str(system_tmp)}


def _refused(live: Live, name: str, content: bytes, needle: str) -> None:
    code, answer = upload(live, name, content)
    assert code == 422, (name, code, answer)  # once 500 for the bomb
    assert answer["field"] == "file" and needle in answer["message"], answer
    assert "Traceback" not in str(answer)


def test_an_xml_bomb_is_a_clear_refusal_not_a_500(live: Live, tmp_path: Path) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        + f"<worksheet {NS}><sheetData>".encode()
        + b'<row r="1"><c t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>'
    )
    _refused(live, "bomb.xlsx", workbook(tmp_path / "b.xlsx", bomb).read_bytes(), "XML bomb")
    styled = workbook(tmp_path / "s.xlsx", sheet(cells(1, ["Name"])))
    with zipfile.ZipFile(styled, "a") as zf:
        zf.writestr("xl/styles.xml", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><styleSheet/>')
    _refused(live, "styled.xlsx", styled.read_bytes(), "document type")


def test_a_csv_of_a_hundred_thousand_columns_says_so(live: Live) -> None:
    wide = ",".join(f"c{i}" for i in range(100_000)) + "\n" + "x," * 99_999 + "x\n"
    _refused(live, "wide.csv", wide.encode(), "100,000 columns")  # once 'no header row'


def test_a_csv_that_is_not_utf8_says_which_encoding_it_was_read_as(live: Live) -> None:
    legacy = "Name,Email\nJosé Müller,jose@enc.test\n".encode("cp1252")
    code, report = upload(live, "legacy.csv", legacy)
    assert code == 200, report
    assert report["encoding"] == "cp1252"
    assert any("read as cp1252" in w and "not UTF-8" in w for w in report["warnings"]), report
    found = live.call("GET", "/api/v1/records?q=jose")[1]["items"]
    assert [r["name"] for r in found] == ["José Müller"]  # not mojibake
    code, report = upload(live, "plain.csv", b"Name,Email\nAna Lopez,ana@enc.test\n")
    assert code == 200 and not any("read as" in w for w in report["warnings"]), report
    rows = "".join(f"Late {n},late{n}@enc.test\n" for n in range(4000))
    late = b"Name,Email\n" + rows.encode() + "José Late,jl@enc.test\n".encode("cp1252")
    _refused(live, "late.csv", late, "line 4002: bytes that are not utf-8 text")


def test_a_card_of_a_thousand_emails_keeps_the_cap_and_says_so(live: Live) -> None:
    lines = "".join(f"EMAIL:many{n}@cards.test\r\n" for n in range(1000))
    card = f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Many Mails\r\n{lines}END:VCARD\r\n"
    code, report = upload(live, "many.vcf", card.encode())
    assert code == 200, report
    assert any(str(MAX_CONTACTS_PER_KIND) in w for w in report["warnings"]), report["warnings"]
    (person,) = live.call("GET", "/api/v1/records?q=Many%20Mails")[1]["items"]
    code, detail, _ = live.call("GET", f"/api/v1/records/{person['id']}")
    assert code == 200 and len(detail["emails"]) == MAX_CONTACTS_PER_KIND  # once 1,000


def test_a_small_calendar_of_minutely_events_is_capped(live: Live) -> None:
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:tick-{n}@bomb.test\r\nDTSTART:20260101T000000Z\r\n"
        f"DTEND:20260101T000100Z\r\nRRULE:FREQ=MINUTELY;COUNT=5000\r\nSUMMARY:Tick {n}\r\n"
        "ORGANIZER:mailto:ann@our.test\r\nATTENDEE:mailto:bob@else.test\r\nEND:VEVENT\r\n"
        for n in range(3)
    )
    cal = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{events}END:VCALENDAR\r\n"
    code, report = upload(live, "ticks.ics", cal.encode(), dry_run="true")
    assert code == 200, report
    made = sum(v for k, v in report["counts"].items() if k.startswith("interactions"))
    assert made <= 3 * 2_000, report["counts"]  # 15,000 occurrences asked for
    assert any("kept the first 2,000 occurrences" in w for w in report["warnings"]), report


def test_uploads_are_spooled_in_the_data_directory_not_tmp(live: Live, system_tmp: Path) -> None:
    """Django spools an upload over 5 MB to a file: in Kith's scratch folder (0700, swept
    after a killed import), never the shared /tmp where it outlived a killed worker."""
    pad = "x" * 280  # a column Kith ignores: a big file of few rows imports quickly
    rows = "".join(f"Spool Person {n},spool{n}@spool.test,{pad}\n" for n in range(20_000))
    content = ("Name,Email,Padding\n" + rows).encode()
    assert len(content) > 5 * 1024 * 1024
    scratch = live.home / "scratch"
    seen: dict[str, set[str]] = {"tmp": set(), "scratch": set()}
    answer: list[Any] = []

    def send() -> None:
        try:
            answer.append(upload(live, "big.csv", content, dry_run="true"))
        except Exception as exc:  # shown by the assertion below
            answer.append((0, repr(exc)))

    sender = threading.Thread(target=send)
    sender.start()
    while sender.is_alive():
        seen["tmp"] |= {p.name for p in system_tmp.iterdir() if ".upload" in p.name}
        if scratch.exists():
            seen["scratch"] |= {p.name for p in scratch.iterdir()}
        time.sleep(0.02)
    sender.join()
    code, report = answer[0]
    assert code == 200 and report["units"] == 20_000, report
    assert seen["tmp"] == set(), seen  # once: tmpXXXX.upload.csv in /tmp
    assert any(".upload" in name for name in seen["scratch"]), seen
    assert stat.S_IMODE(scratch.stat().st_mode) == 0o700
    assert list(scratch.iterdir()) == []  # nothing left once the import ended


def test_exported_cells_are_never_formulas(live: Live, tmp_path: Path) -> None:
    for n, name in enumerate(FORMULAS):
        code, made, _ = live.call(
            "POST", "/api/v1/records", {"name": name, "emails": [f"f{n}@formula.test"]}
        )
        assert code == 201, made
    code, text, _ = live.call("GET", "/api/v1/export?format=csv")
    assert code == 200
    api_cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    done = live.kith("export", "--format", "csv")
    assert done.returncode == 0, done.stderr
    cli_cells = [c for row in csv.reader(io.StringIO(done.stdout)) for c in row]
    for cells_ in (api_cells, cli_cells):
        assert {f"'{f}" for f in FORMULAS} <= set(cells_)
        assert not [c for c in cells_ if c in FORMULAS]
    # the XLSX Kith writes (the CLI's reject file of a workbook) holds no formula either
    bad = cells(1, ["Name", "Email"]) + cells(2, [FORMULAS[0], "not an email"])
    book = workbook(tmp_path / "bad.xlsx", sheet(bad))
    rejects = tmp_path / "rejects.xlsx"
    done = live.kith("import", str(book), "--skip-bad", "--reject", str(rejects))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(rejects) as zf:
        sheet_xml = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "'=HYPERLINK" in html.unescape(sheet_xml)


def test_pages_lose_nothing_at_a_shared_second(live: Live) -> None:
    code, made, _ = live.call("POST", "/api/v1/records", {"name": "Tie Tara"})
    assert code == 201, made
    tara = made["id"]
    for n in range(25):
        code, logged, _ = live.call(
            "POST",
            "/api/v1/interactions",
            {
                "kind": "note",
                "participants": [{"ref": tara}],
                "at": "2026-11-02T10:00:00Z",
                "subject": f"same second {n}",
            },
        )
        assert code == 201, logged
    for path in (
        f"/api/v1/records/{tara}/timeline?limit=2",
        f"/api/v1/interactions?record={tara}&limit=2",
    ):
        ids: list[str] = []
        cursor = ""
        while True:
            code, page, _ = live.call("GET", path + (f"&cursor={cursor}" if cursor else ""))
            assert code == 200, page
            ids += [i["id"] for i in page["items"]]
            if not (cursor := page["next_cursor"]):
                break
        assert len(ids) == len(set(ids)) == 25, path  # once 2 of 5
    # the web's Load more, as a browser follows it
    live.call(
        "POST",
        "/api/v1/users",
        {"email": "webber@our.test", "role": "viewer", "password": "correct horse battery staple"},
    )
    browser = Browser(live, "127.0.0.1")
    assert browser.web_sign_in("webber@our.test") == 302
    shown, url = 0, f"/records/{tara}/timeline"
    while url:
        code, fragment = browser.request("GET", url)
        assert code == 200, fragment[:500]
        shown += fragment.count('<li class="item">')
        more = re.search(r'href="([^"]*timeline[^"]*more=[^"]*)"', fragment)
        url = html.unescape(more.group(1)) if more else ""
    assert shown == 25  # once 20, and Load more returned nothing


MALFORMED = ["not-a-cursor", _b64([1, 2, 3]), _b64({"before": "2026-13-01"}), _b64({"o": "x"})]
ODD = [  # well-formed, but with values no page of Kith ever gave
    _b64(["\u0000", "x"]),
    _b64([{"a": 1}, []]),
    _b64(["2026-01-01T00:00:00+00:00", None]),
    _b64([1e308, "y"]),
    _b64({"o": -1}),
    _b64(["9999-99-99T99:99:99", "z"]),
]


def test_a_forged_cursor_is_a_400_on_every_list(live: Live) -> None:
    code, made, _ = live.call("POST", "/api/v1/records", {"name": "Cursor Cora"})
    assert code == 201, made
    code, hook, _ = live.call(
        "POST", "/api/v1/webhooks", {"url": "https://hooks.example.com/k", "events": ["*"]}
    )
    assert code == 201, hook
    code, schema, _ = live.call("GET", "/api/v1/openapi.json")
    assert code == 200
    ids = {"{ref}": made["id"], "{hook_id}": hook["id"]}
    paged = []  # every list the API documents with a cursor, its path filled in
    for path, ops in schema["paths"].items():
        params = ops.get("get", {}).get("parameters", [])
        if any(p["name"] == "cursor" for p in params):
            for name, value in ids.items():
                path = path.replace(name, value)
            assert "{" not in path, f"no id to fill {path} with: add one to the test"
            paged.append(path)
    assert len(paged) >= 8, paged
    for path in [*paged, "/api/v1/records?sort=-updated_at"]:
        sep = "&" if "?" in path else "?"
        for cursor in MALFORMED + ODD:
            code, answer, _ = live.call("GET", f"{path}{sep}cursor={cursor}")
            if cursor in ODD and code == 200:
                continue  # a cursor of the right shape may simply point somewhere
            assert code in (400, 422), (path, cursor, code, answer)  # once 500
            assert answer["field"] == "cursor", (path, cursor, answer)


@pytest.mark.parametrize("name", ["isnull", "contains", "a__b", "year", "trailing_"])
def test_field_names_that_read_as_filter_syntax_are_refused(live: Live, name: str) -> None:
    code, answer, _ = live.call("POST", "/api/v1/types/person/fields", {"spec": f"{name}:text"})
    assert code == 422, answer
    assert name in answer["message"]
    code, answer, _ = live.call(
        "POST", "/api/v1/types", {"key": f"deal{secrets.token_hex(2)}", "fields": [f"{name}:text"]}
    )
    assert code == 422 and name in answer["message"], answer


def test_a_backup_is_readable_by_its_owner_only(live: Live, tmp_path: Path) -> None:
    target = tmp_path / "kith-backup.jsonl.gz"
    old = os.umask(0o022)  # a usual umask: files are 0644 unless the writer says otherwise
    try:
        done = live.kith("backup", "create", str(target), "--json")
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # once 0644
    assert json.loads(done.stdout)["mode"] == "0600"  # and it says so


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://kith:s3cret-pw@127.0.0.1:1/kith",
        "postgress://kith:s3cret-pw@127.0.0.1/kith",
        "postgresql://kith:s3cret-pw@no-such-host.invalid/kith",
    ],
)
def test_a_bad_database_url_is_one_line_without_its_password(live: Live, url: str) -> None:
    env = {**live.env, "KITH_DB": url}
    for args in (["user", "list"], ["serve", "--port", "1"]):
        done = Live(base="", env=env, process=live.process).kith(*args)
        said = done.stdout + done.stderr
        assert done.returncode != 0, said
        assert "s3cret-pw" not in said and "Traceback" not in said, said
        lines = [line for line in said.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), said
