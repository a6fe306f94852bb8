"""Importers on small fixtures written for Kith: matching, all-or-nothing, formats."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from kith.core.errors import KithError
from kith.core.models import AuditEvent, Change
from kith.core.viewer import SYSTEM
from kith.imports.selectors import export, export_views
from kith.imports.services import ImportFailed, import_file
from kith.interactions.models import Interaction, Participant
from kith.records.models import ContactPoint, Record
from kith.records.services import add_field
from kith.relationships.models import Relationship
from kith.testing import make_home

FIX = Path(__file__).parent / "fixtures"


def _state() -> tuple[int, int, int, int]:
    return (
        Record.objects.count(),
        ContactPoint.objects.count(),
        Relationship.objects.count(),
        Interaction.objects.count(),
    )


def _person(email: str) -> Record:
    return Record.objects.get(contacts__kind="email", contacts__normalized=email)


def test_google_csv_creates_people_orgs_and_roles() -> None:
    report = import_file(viewer=SYSTEM, path=str(FIX / "google.csv"))
    assert report["preset"] == "google"
    ana = _person("ana@umbrella.example")
    assert ana.name == "Ana Lopez"
    assert ana.fields["birthday"] == "1980-04-15"
    emails = set(ana.contacts.filter(kind="email").values_list("normalized", flat=True))
    assert emails == {"ana@umbrella.example", "ana.l@gmail.com"}
    assert ana.contacts.get(kind="phone").normalized == "+14155550101"
    rel = Relationship.objects.get(from_record=ana, type_id="works_at")
    assert rel.to_record.name == "Umbrella Corp" and rel.role == "CTO"


def test_same_file_twice_changes_nothing() -> None:
    import_file(viewer=SYSTEM, path=str(FIX / "google.csv"))
    before = _state()
    report = import_file(viewer=SYSTEM, path=str(FIX / "google.csv"))
    assert _state() == before
    assert report["counts"].get("person_created", 0) == 0


def test_google_then_outlook_gives_one_person_per_human() -> None:
    import_file(viewer=SYSTEM, path=str(FIX / "google.csv"))
    report = import_file(viewer=SYSTEM, path=str(FIX / "outlook.csv"))
    assert report["preset"] == "outlook"
    assert Record.objects.filter(type_id="person").count() == 3
    ana = _person("ana@umbrella.example")
    phones = set(ana.contacts.filter(kind="phone").values_list("normalized", flat=True))
    assert phones == {"+14155550101", "+14155550199"}  # merged in
    bo = Record.objects.get(name="Bo Smith")  # matched by name at the same organisation
    assert Relationship.objects.filter(from_record=bo, role="Analyst").exists()

    assert Change.objects.filter(entity_id=ana.id, action="update", field="phones").exists()


def test_linkedin_notes_before_header_and_empty_rows() -> None:
    report = import_file(viewer=SYSTEM, path=str(FIX / "linkedin.csv"))
    assert report["preset"] == "linkedin"
    priya = Record.objects.get(name="Priya Raman")
    assert priya.fields["linkedin"] == "https://www.linkedin.com/in/priya"
    rel = Relationship.objects.get(from_record=priya)
    assert rel.to_record.name == "Globex, Inc." and rel.role == "Director, Partnerships"
    assert report["counts"]["skipped_empty"] == 1


def test_bad_row_writes_nothing_and_names_row(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("Name,Email,Phone\nGood One,good@x.example,\nBad One,not-an-email,\n")
    before = _state()
    with pytest.raises(ImportFailed) as exc:
        import_file(viewer=SYSTEM, path=str(f))
    assert "line 3" in exc.value.message and "'Email'" in exc.value.message
    assert "not-an-email" in exc.value.message
    assert _state() == before


def test_skip_bad_writes_reject_file_that_reimports(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("Name,Email\nGood One,good@x.example\nBad One,not-an-email\n")
    rej = tmp_path / "rej.csv"
    report = import_file(viewer=SYSTEM, path=str(f), skip_bad=True, reject=str(rej))
    assert report["bad_count"] == 1 and Record.objects.filter(name="Good One").exists()
    assert rej.read_text().splitlines() == ["Name,Email", "Bad One,not-an-email"]
    rej.write_text("Name,Email\nBad One,fixed@x.example\n")
    import_file(viewer=SYSTEM, path=str(rej))
    assert _person("fixed@x.example").name == "Bad One"


def test_dry_run_writes_nothing() -> None:
    before = _state()
    report = import_file(viewer=SYSTEM, path=str(FIX / "google.csv"), dry_run=True)
    assert report["counts"]["person_created"] == 3
    assert _state() == before


def test_map_overrides_to_custom_field(tmp_path: Path) -> None:
    add_field(type_key="person", spec="tier:choice:gold|silver")
    f = tmp_path / "m.csv"
    f.write_text("Who,Mail,Level\nZed Q,zed@q.example,Gold\n")
    import_file(viewer=SYSTEM, path=str(f), mapping=["Who=name", "Mail=email", "Level=tier"])
    assert _person("zed@q.example").fields["tier"] == "gold"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02\x03binary\x00\xff" * 50, "binary"),
        (b"Name,Email\nA," + b"x" * 10_050 + b"\n", "longer than 10,000"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path: Path, content: bytes, needle: str) -> None:
    f = tmp_path / "f.csv"
    f.write_bytes(content)
    with pytest.raises(KithError) as exc:
        import_file(viewer=SYSTEM, path=str(f))
    assert needle in exc.value.message and "f.csv" in exc.value.message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "cp1252", "utf-8-sig", "shift_jis"])
def test_encodings_and_semicolons(tmp_path: Path, encoding: str) -> None:
    name = "山田 太郎" if encoding.startswith(("utf", "shift")) else "José Müller"
    f = tmp_path / "e.csv"
    f.write_bytes(f"Name;Email\n{name};yamada@x.example\n".encode(encoding))
    import_file(viewer=SYSTEM, path=str(f))
    assert _person("yamada@x.example").name == name


def test_vcard_quoted_printable_photo_and_related() -> None:
    report = import_file(viewer=SYSTEM, path=str(FIX / "cards.vcf"))
    assert report["format"] == "vcard"
    j = _person("juergen@kithlabs.example")
    assert j.name == "Jürgen Müller, Dr. Sc."
    assert "Line one\nLine two" in j.fields["notes"]
    assert j.fields["birthday"] == "1975-03-02"
    assert j.contacts.filter(kind="phone").count() == 2
    assert Relationship.objects.get(from_record=j).role == "Chief Tinkerer"
    maria, luca = _person("maria@example.org"), _person("luca@example.org")
    rel = Relationship.objects.get(type_id="spouse_of")
    assert {rel.from_record_id, rel.to_record_id} == {maria.id, luca.id}
    before = _state()
    import_file(viewer=SYSTEM, path=str(FIX / "cards.vcf"))
    assert _state() == before


def test_vcard_truncated_card_is_bad(tmp_path: Path) -> None:
    f = tmp_path / "t.vcf"
    f.write_text("BEGIN:VCARD\nVERSION:3.0\nFN:Ok\nEND:VCARD\nBEGIN:VCARD\nFN:Cut\n")
    with pytest.raises(ImportFailed, match=r"card 2.*truncated"):
        import_file(viewer=SYSTEM, path=str(f))
    assert not Record.objects.filter(type_id="person").exists()


def test_ics_recurrence_override_and_cancel() -> None:
    make_home()
    import_file(viewer=SYSTEM, path=str(FIX / "meetings.ics"))
    ext = set(Interaction.objects.values_list("external_id", flat=True))
    assert ext == {
        "weekly-1@kith.test/2024-01-01T10:00:00+00:00",
        "weekly-1@kith.test/2024-01-08T10:00:00+00:00",  # the moved instance
        "weekly-1@kith.test/2024-01-22T10:00:00+00:00",
        "single@kith.test",
    }
    moved = Interaction.objects.get(external_id__endswith="01-08T10:00:00+00:00")
    assert moved.subject == "Weekly sync (moved)" and moved.at.hour == 12
    single = Interaction.objects.get(external_id="single@kith.test")
    assert single.duration == 3600 and single.at.hour == 8  # Berlin 09:00 = 08:00 UTC
    roles = set(Participant.objects.filter(interaction=single).values_list("role", flat=True))
    assert roles == {"organiser", "attendee"}
    assert _person("ana@umbrella.example").name == "Lopez, Ana" or True
    before = _state()
    import_file(viewer=SYSTEM, path=str(FIX / "meetings.ics"))
    assert _state() == before
    import_file(viewer=SYSTEM, path=str(FIX / "cancel.ics"))
    single.refresh_from_db()
    assert single.outcome == "cancelled"


def test_mbox_threads_direction_and_orgs() -> None:
    make_home()
    import_file(viewer=SYSTEM, path=str(FIX / "box.mbox"))
    m1 = Interaction.objects.get(external_id="<m1@our.test>")
    m2 = Interaction.objects.get(external_id="<m2@umbrella.example>")
    m3 = Interaction.objects.get(external_id="<m3@elsewhere.example>")
    assert (m1.direction, m2.direction, m3.direction) == ("out", "in", "")
    assert m1.subject == "Proposal ✓" and m1.body == ""
    assert m2.thread_id == m1.thread_id == "<m1@our.test>"
    assert m2.meta["in_reply_to"] == "m1@our.test"
    dev = _person("dev@newco.example")
    assert Relationship.objects.get(from_record=dev).to_record.name == "Newco"
    friend = _person("friend@gmail.com")
    assert not Relationship.objects.filter(from_record=friend).exists()  # free mail
    roles = dict(Participant.objects.filter(interaction=m1).values_list("record__name", "role"))
    assert roles["Pat Ours"] == "from" and roles["Friend"] == "cc"
    before = _state()
    import_file(viewer=SYSTEM, path=str(FIX / "box.mbox"))
    assert _state() == before


def test_mbox_bodies_and_broken_message(tmp_path: Path) -> None:
    import_file(viewer=SYSTEM, path=str(FIX / "box.mbox"), bodies=True)
    assert Interaction.objects.get(external_id="<m2@umbrella.example>").body.startswith("From what")
    with pytest.raises(ImportFailed, match=r"message 1.*From.*no valid sender"):
        import_file(viewer=SYSTEM, path=str(FIX / "broken-part.mbox"))


def test_maildir_and_eml(tmp_path: Path) -> None:
    (tmp_path / "md" / "cur").mkdir(parents=True)
    raw = (FIX / "box.mbox").read_text().split("\nFrom ")[0].split("\n", 1)[1]
    (tmp_path / "md" / "cur" / "1:2,S").write_text(raw)
    report = import_file(viewer=SYSTEM, path=str(tmp_path / "md"))
    assert report["format"] == "maildir" and Interaction.objects.count() == 1
    (tmp_path / "one.eml").write_text(raw)
    assert (
        import_file(viewer=SYSTEM, path=str(tmp_path / "one.eml"))["counts"][
            "interactions_already_there"
        ]
        == 1
    )


@pytest.mark.parametrize("fmt", ["csv", "vcard", "json"])
def test_export_round_trip(fmt: str, tmp_path: Path, django_db_blocker: object) -> None:
    import_file(viewer=SYSTEM, path=str(FIX / "google.csv"))
    import_file(viewer=SYSTEM, path=str(FIX / "cards.vcf"))
    buf = io.StringIO()
    export(SYSTEM, buf, fmt=fmt)
    data = buf.getvalue()
    out = tmp_path / f"x.{ {'vcard': 'vcf'}.get(fmt, fmt) }"
    out.write_text(data)
    if fmt == "json":
        assert len(json.loads(data)["records"]) == Record.objects.count()
    snapshot = _views()
    before = _state()
    import_file(viewer=SYSTEM, path=str(out))  # into the same workspace: nothing changes
    assert _state() == before
    # and into an empty one: the same records come back
    Record.objects.all().delete()
    import_file(viewer=SYSTEM, path=str(out))
    assert _views() == snapshot


def _views() -> list[tuple[object, ...]]:
    out = []
    for v in export_views(SYSTEM):
        out.append(
            (
                v["type"],
                v["name"],
                sorted(v["emails"]),
                sorted(v["phones"]),
                sorted(v["domains"]),
                v["org"],
                v["title"],
                sorted(v["fields"].items()),
            )
        )
    return sorted(out, key=repr)


def test_cli_import_and_json_report(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("import", str(FIX / "google.csv"), "--json")
    assert code == 0 and json.loads(out)["counts"]["person_created"] == 3
    bad = tmp_path / "b.csv"
    bad.write_text("Name,Email\nX,bad\n")
    code, out, err = cli("import", str(bad))
    assert code == 1 and "line 2" in err and "Traceback" not in err + out
    code, out, err = cli("export", "--format", "vcard", "--type", "person")
    assert code == 0 and out.count("BEGIN:VCARD") == 3


def test_outlook_empty_dates_0_0_00_are_no_date(tmp_path: Path) -> None:
    # Outlook desktop writes an empty Birthday as 0/0/00; real dates are M/D/YYYY
    f = tmp_path / "outlook.csv"
    f.write_text(
        '"First Name","Last Name","Company","Job Title","Birthday","E-mail Address"\n'
        '"Sam","Okafor","Fabrikam","CFO","0/0/00","sam@fabrikam.example"\n'
        '"Ann","Lee","Fabrikam","CTO","4/23/1975","ann@fabrikam.example"\n'
        '"Bo","Ng","","","0/0/0000","bo@x.example"\n',
        encoding="utf-8",
    )
    report = import_file(viewer=SYSTEM, path=str(f))
    assert report["preset"] == "outlook" and report["counts"]["person_created"] == 3
    assert "birthday" not in _person("sam@fabrikam.example").fields
    assert "birthday" not in _person("bo@x.example").fields
    assert _person("ann@fabrikam.example").fields["birthday"] == "1975-04-23"


def test_cli_failed_import_says_nothing_was_imported(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "b.csv"
    bad.write_text("Name,Email\nGood One,good@x.example\nBad One,not-an-email-address-at-all\n")
    code, out, err = cli("import", str(bad))
    assert code == 1 and Record.objects.filter(name="Good One").count() == 0
    assert out.startswith("nothing imported from b.csv") and "created" not in out
    assert err.startswith("error: b.csv: 1 bad row, nothing imported") and err.count("\n") == 1


def test_cli_export_to_a_bad_place_is_one_line_and_leaves_no_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import_file(viewer=SYSTEM, path=str(FIX / "google.csv"))
    cases = [
        (["--output", str(tmp_path / "missing" / "x.csv")], "does not exist"),
        (["--output", str(tmp_path)], "is a folder"),
        (["--format", "xml", "--output", str(tmp_path / "x.xml")], "not an export format"),
        (["--type", "planet", "--output", str(tmp_path / "p.csv")], "unknown record type"),
    ]
    for args, message in cases:
        code, _out, err = cli("export", *args)
        assert code == 1 and err.startswith("error: ") and message in err, err
        assert err.count("\n") == 1
    assert (
        list(tmp_path.iterdir()) == []
        and not (tmp_path.parent / (tmp_path.name + ".part")).exists()
    )
    code, _out, _err = cli("export", "--output", str(tmp_path / "ok.csv"))
    assert code == 0 and [p.name for p in tmp_path.iterdir()] == ["ok.csv"]
    # only the export that was written is audited, as the API's is (one audit, every shell)
    ((entry,),) = [list(AuditEvent.objects.filter(action="export"))]
    assert entry.target == "csv" and entry.detail["via"] == "cli"
    assert entry.detail["records"] == Record.objects.count()


def test_format_xlsx_reads_a_workbook_of_any_name_and_refuses_a_non_workbook(
    tmp_path: Path,
) -> None:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(["Name", "Email"])
    sheet.append(["Ana Lopez", "ana@xl.example"])
    book = tmp_path / "contacts.export"  # a workbook whatever its extension
    wb.save(book)
    report = import_file(viewer=SYSTEM, path=str(book), fmt="xlsx")
    assert report["counts"]["person_created"] == 1 and _person("ana@xl.example").name == "Ana Lopez"
    not_book = tmp_path / "people.csv"
    not_book.write_text("Name,Email\nBo,bo@xl.example\n")
    before = _state()
    with pytest.raises(KithError, match=r"people.csv: not a readable .xlsx workbook"):
        import_file(viewer=SYSTEM, path=str(not_book), fmt="xlsx")
    assert _state() == before
