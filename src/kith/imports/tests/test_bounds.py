"""Hostile sheets, made by the test: a workbook's size is bounded by its cells, not trusted
from its declarations, and every refusal is one clear line that changes nothing."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from kith.core import limits
from kith.core.errors import KithError
from kith.core.limits import MAX_CONTACTS_PER_KIND, MAX_PARTICIPANTS
from kith.core.viewer import SYSTEM
from kith.imports import ical
from kith.imports.scratch import scratch, scratch_root
from kith.imports.services import import_file
from kith.imports.tests.hostile import NS, cells, sheet, workbook
from kith.imports.workbook import MAX_COLUMNS, MAX_ROWS
from kith.interactions.models import Interaction, Participant
from kith.records.models import ContactPoint, Record
from kith.records.services import add_person
from kith.testing import make_home


def _refused(path: Path, needle: str) -> float:
    """Import ``path`` expecting a clear refusal; returns the peak Python memory in MB."""
    before = Record.objects.count()
    tracemalloc.start()
    try:
        with pytest.raises(KithError) as err:
            import_file(viewer=SYSTEM, path=str(path), fmt="xlsx")
        peak = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    assert needle in err.value.message and path.name in err.value.message
    assert "\n" not in err.value.message and "Traceback" not in err.value.message
    assert Record.objects.count() == before
    return peak


def test_a_row_of_three_million_cells_is_refused_in_little_memory(tmp_path: Path) -> None:
    cell = b'<c t="inlineStr"><is><t>x</t></is></c>'
    book = workbook(tmp_path / "wide.xlsx", sheet(b'<row r="1">' + cell * 3_000_000 + b"</row>"))
    assert book.stat().st_size < 2_000_000  # a small file ...
    started = time.monotonic()
    peak = _refused(book, f"more than {MAX_COLUMNS:,} columns")
    assert peak < 50, f"peak {peak:.0f} MB"  # ... that once took 2.8 GB
    assert time.monotonic() - started < 20


def test_millions_of_empty_rows_are_refused(tmp_path: Path) -> None:
    rows = cells(1, ["Name", "Email"]) + b"<row/>" * (MAX_ROWS + 5)
    peak = _refused(workbook(tmp_path / "long.xlsx", sheet(rows)), f"more than {MAX_ROWS:,} rows")
    assert peak < 50, f"peak {peak:.0f} MB"
    far = cells(1, ["Name"]) + f'<row r="{MAX_ROWS + 1}"/>'.encode()
    _refused(workbook(tmp_path / "far.xlsx", sheet(far)), "rows")


def test_an_xml_bomb_is_refused_not_a_crash(tmp_path: Path) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        + f"<worksheet {NS}><sheetData>".encode()
        + b'<row r="1"><c t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>'
    )
    _refused(workbook(tmp_path / "bomb.xlsx", bomb), "document type")
    shared_bomb = tmp_path / "bomb2.xlsx"
    workbook(shared_bomb, sheet(cells(1, ["Name"])))
    with zipfile.ZipFile(shared_bomb, "a") as zf:
        zf.writestr("xl/styles.xml", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><styleSheet/>')
    _refused(shared_bomb, "document type")


def test_a_forged_dimension_does_not_pad_every_row(tmp_path: Path) -> None:
    rows = cells(1, ["Name", "Email"]) + cells(2, ["Dora Ng", "dora@forged.example"])
    book = workbook(tmp_path / "forged.xlsx", sheet(rows, dimension="A1:XFD1048576"))
    report = import_file(viewer=SYSTEM, path=str(book), fmt="xlsx")
    assert report["counts"]["person_created"] == 1
    assert Record.objects.filter(name="Dora Ng").exists()


def test_shared_strings_are_read_within_bounds(tmp_path: Path) -> None:
    rows = b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    rows += b'<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c></row>'
    book = workbook(
        tmp_path / "shared.xlsx", sheet(rows), ["Name", "Email", "Eli Sato", "eli@ss.example"]
    )
    report = import_file(viewer=SYSTEM, path=str(book), fmt="xlsx")
    assert report["counts"]["person_created"] == 1


def test_a_csv_of_a_hundred_thousand_columns_says_so(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n" + "x," * 99_999 + "x\n")
    with pytest.raises(KithError, match=r"wide.csv: line 1 has 100,000 columns; at most 1,000"):
        import_file(viewer=SYSTEM, path=str(wide))
    assert not Record.objects.filter(type_id="person").exists()


def test_a_csv_that_is_not_utf8_says_which_encoding_was_assumed(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    legacy = tmp_path / "legacy.csv"
    legacy.write_bytes("Name,Email\nJosé Müller,jose@enc.example\n".encode("cp1252"))
    code, out, _ = cli("import", str(legacy))
    assert code == 0 and "read as cp1252 text: the file is not UTF-8" in out
    assert Record.objects.filter(name="José Müller").exists()
    plain = tmp_path / "plain.csv"
    plain.write_text("Name,Email\nAna Lopez,ana@enc.example\n", encoding="utf-8")
    code, out, _ = cli("import", str(plain))
    assert code == 0 and "read as" not in out


def test_a_csv_that_stops_being_utf8_after_its_start_is_refused_at_that_line(
    tmp_path: Path,
) -> None:
    """The encoding is judged on the first 64 KB: a legacy byte after it is refused naming
    its own line (text is decoded in blocks, which named a line thousands earlier)."""
    late = tmp_path / "late.csv"
    rows = "".join(f"Person {n},p{n}@late.example\n" for n in range(4000))
    late.write_bytes(
        b"Name,Email\n" + rows.encode() + "José Late,j@late.example\n".encode("cp1252")
    )
    with pytest.raises(KithError, match=r"late.csv: line 4002: bytes that are not utf-8 text"):
        import_file(viewer=SYSTEM, path=str(late))
    assert not Record.objects.filter(type_id="person").exists()


FORMULAS = ['=HYPERLINK("http://x.example","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


def test_exported_cells_are_never_formulas_and_import_back_unchanged(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]

    for i, text in enumerate(FORMULAS):
        add_person(name=text, emails=[f"p{i}@f.example"])
    add_person(name="Phone Person", emails=["ph@f.example"], phones=["+1 415 555 0199"])
    out = tmp_path / "export.csv"
    assert cli("export", "--format", "csv", "--output", str(out))[0] == 0
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    cells = [c for row in rows[1:] for c in row]
    formulas = [c for c in cells if c.startswith(("=", "@")) or c.startswith(("+", "-"))]
    assert formulas == ["+1 415 555 0199"]  # a phone number stays a phone number
    assert {f"'{t}" for t in FORMULAS} <= set(cells)
    before = Record.objects.count()
    assert cli("import", str(out))[0] == 0  # matched by email: the names come back as they were
    assert Record.objects.count() == before
    assert set(FORMULAS) <= set(Record.objects.values_list("name", flat=True))
    assert not Record.objects.filter(name__startswith="'").exists()


def test_recurring_events_are_capped_per_event_and_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 minutely recurring events in a small file once became 600,000 interactions."""
    assert limits.MAX_OCCURRENCES_PER_FILE <= 50_000  # the real caps are bounded ...
    monkeypatch.setattr(ical, "MAX_OCCURRENCES", 40)  # ... and small ones keep this quick
    monkeypatch.setattr(ical, "MAX_OCCURRENCES_PER_FILE", 100)
    make_home()
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:minutely-{n}@bomb.example\r\nDTSTART:20260101T000000Z\r\n"
        f"DTEND:20260101T000100Z\r\nRRULE:FREQ=MINUTELY;COUNT=2000\r\nSUMMARY:Tick {n}\r\n"
        "ORGANIZER:mailto:ann@our.test\r\nATTENDEE:mailto:bob@else.example\r\nEND:VEVENT\r\n"
        for n in range(300)
    )
    cal = tmp_path / "bomb.ics"
    cal.write_text(
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{events}END:VCALENDAR\r\n"
    )
    assert cal.stat().st_size < 100_000
    report = import_file(viewer=SYSTEM, path=str(cal))
    assert Interaction.objects.count() == 100  # 40 + 40 + 20, then nothing more
    cut = [w for w in report["warnings"] if "left out the rest" in w]
    assert len(cut) >= 3 and "kept the first 40 occurrences" in cut[0]


def test_a_message_to_thousands_keeps_the_first_participants_and_says_so(
    tmp_path: Path,
) -> None:
    to = ", ".join(f"r{n}@many.example" for n in range(2_000))
    msg = (
        "From: Ann <ann@our.test>\nTo: " + to + "\nSubject: all hands\n"
        "Date: Mon, 02 Mar 2026 10:00:00 +0000\nMessage-ID: <wide@our.test>\n\nhello\n"
    )
    path = tmp_path / "wide.eml"
    path.write_text(msg)
    report = import_file(viewer=SYSTEM, path=str(path))
    assert Participant.objects.count() == MAX_PARTICIPANTS
    assert Record.objects.filter(type_id="person").count() <= MAX_PARTICIPANTS
    assert any(f"left out {2_001 - MAX_PARTICIPANTS:,} more" in w for w in report["warnings"])


def test_a_card_with_a_thousand_emails_keeps_the_cap_and_says_so(tmp_path: Path) -> None:
    lines = "".join(f"EMAIL:e{n}@card.example\r\n" for n in range(1_000))
    card = tmp_path / "many.vcf"
    card.write_text(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Many Mails\r\n{lines}END:VCARD\r\n")
    report = import_file(viewer=SYSTEM, path=str(card))
    assert ContactPoint.objects.filter(kind="email").count() == MAX_CONTACTS_PER_KIND
    assert any(f"left out {1_000 - MAX_CONTACTS_PER_KIND:,} more" in w for w in report["warnings"])


def _people_csv(path: Path, rows: int) -> Path:
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["name", "email", "notes"])
        for n in range(rows):
            out.writerow([f"Person {n}", f"p{n}@budget.test", "x" * 400])
    return path


def test_an_import_over_its_time_budget_stops_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_home()
    before = Record.objects.count()
    monkeypatch.setenv("KITH_IMPORT_SECONDS", "0")
    with pytest.raises(KithError) as err:
        import_file(viewer=SYSTEM, path=str(_people_csv(tmp_path / "many.csv", 2_500)))
    assert "over the import time budget of 0 s (KITH_IMPORT_SECONDS)" in err.value.message
    assert "nothing was imported" in err.value.message and err.value.field == "file"
    assert Record.objects.count() == before
    monkeypatch.setenv("KITH_IMPORT_SECONDS", "soon")
    with pytest.raises(KithError, match="KITH_IMPORT_SECONDS: 'soon' is not a number"):
        import_file(viewer=SYSTEM, path=str(tmp_path / "many.csv"))


def test_the_cli_stops_an_import_over_its_memory_budget_with_one_line(tmp_path: Path) -> None:
    """A real process: its memory grows with the import, and 1 MB is soon passed."""
    db = f"sqlite:///{tmp_path / 'budget.db'}"
    env = {**os.environ, "KITH_DB": db, "KITH_HOME": str(tmp_path), "KITH_IMPORT_MEMORY_MB": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    kith = [sys.executable, "-m", "kith"]
    subprocess.run([*kith, "init"], env=env, check=True, capture_output=True, timeout=120)
    path = _people_csv(tmp_path / "big.csv", 20_000)
    done = subprocess.run(
        [*kith, "import", str(path)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode != 0
    assert "over the import memory budget of 1 MB (KITH_IMPORT_MEMORY_MB)" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    listed = subprocess.run(
        [*kith, "list", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert "Person 1" not in listed.stdout  # nothing of it was written


def test_working_copies_live_in_the_data_directory_and_leftovers_are_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed import leaves its copy of the contacts behind: not in the shared /tmp, and
    only until the next import, once no import can still be using it."""
    monkeypatch.setenv("KITH_HOME", str(tmp_path / "home"))
    root = scratch_root()
    assert root.parent == tmp_path / "home" and (root.stat().st_mode & 0o777) == 0o700
    left = root / "import-killed"
    left.mkdir()
    (left / "contacts.csv").write_text("name,email\nPat,pat@x.test\n")
    spooled = root / "tmpkilled.upload.csv"  # an upload the server spooled, then was killed
    spooled.write_text("name,email\nPat,pat@x.test\n")
    fresh = root / "import-running"
    fresh.mkdir()
    (root / "tmpnow.upload.csv").write_text("name\n")  # an upload arriving now
    old = time.time() - 3 * 3600
    os.utime(left, (old, old))
    os.utime(spooled, (old, old))
    with scratch("import-") as folder:
        assert Path(folder).parent == root
    assert not left.exists() and fresh.exists()  # the running one (recent) is left alone
    assert sorted(p.name for p in root.iterdir()) == ["import-running", "tmpnow.upload.csv"]


def test_an_unclosed_quote_names_its_line_and_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        'name,email,notes\nAda Lee,ada@x.test,fine\nJane Doe,jane@x.test,"unclosed\n'
        "Bob Roe,bob@x.test,fine\n"
    )
    before = Record.objects.count()
    for dry_run in (True, False):
        with pytest.raises(KithError) as err:
            import_file(viewer=SYSTEM, path=str(path), dry_run=dry_run)
        assert err.value.message == (
            'bad.csv: line 3: a quoted field opened here is never closed (a missing "); '
            "nothing imported"
        )
    assert Record.objects.count() == before
    path.write_text('name,email,notes\nAda Lee,ada@x.test,"a ""quoted"" 5"" screen"\n')
    assert import_file(viewer=SYSTEM, path=str(path))["imported"] == 1  # well-formed quotes
