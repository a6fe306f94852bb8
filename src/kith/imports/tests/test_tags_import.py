"""Google's Labels (and Group Membership), vCard CATEGORIES and Outlook's Categories import
into the records' tags; a re-import adds none twice; Google's address is stored once."""

from __future__ import annotations

from pathlib import Path

import pytest

from kith.core.viewer import SYSTEM
from kith.imports.services import ImportFailed, import_file
from kith.records.models import ContactPoint, Record
from kith.records.selectors import tags_of


def _tags(email: str) -> list[str]:
    rid = ContactPoint.objects.get(kind="email", normalized=email).record_id
    return tags_of([rid]).get(rid, [])


def test_google_labels_and_group_membership(tmp_path: Path) -> None:
    path = tmp_path / "google.csv"
    path.write_text(
        "First Name,Last Name,E-mail 1 - Value,Labels\n"
        "Ana,Lopez,ana@x.test,* myContacts ::: Clients ::: VIP\n"
        "Bo,Smith,bo@x.test,* starred\n",
        encoding="utf-8",
    )
    report = import_file(viewer=SYSTEM, path=str(path))
    assert report["counts"]["tags_added"] == 2
    assert _tags("ana@x.test") == ["Clients", "VIP"] and _tags("bo@x.test") == []
    old = tmp_path / "old.csv"
    old.write_text(
        "Given Name,Family Name,Group Membership,E-mail 1 - Value\n"
        "Ana,Lopez,* myContacts ::: clients ::: Board,ana@x.test\n",
        encoding="utf-8",
    )
    import_file(viewer=SYSTEM, path=str(old))
    assert _tags("ana@x.test") == ["Board", "Clients", "VIP"]  # "clients" is Clients
    import_file(viewer=SYSTEM, path=str(path))
    assert _tags("ana@x.test") == ["Board", "Clients", "VIP"]


def test_vcard_categories_and_outlook_categories(tmp_path: Path) -> None:
    card = tmp_path / "c.vcf"
    card.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cy Cole\r\nEMAIL:cy@x.test\r\n"
        "CATEGORIES:Friends,Golf\\; club\r\nEND:VCARD\r\n",
        encoding="utf-8",
    )
    import_file(viewer=SYSTEM, path=str(card))
    assert _tags("cy@x.test") == ["Friends", "Golf; club"]
    outlook = tmp_path / "outlook.csv"
    outlook.write_text(
        '"First Name","Last Name","E-mail Address","Job Title","Categories"\n'
        '"Di","Dunn","di@x.test","CEO","Partner;Investor"\n',
        encoding="utf-8",
    )
    import_file(viewer=SYSTEM, path=str(outlook))
    assert _tags("di@x.test") == ["Investor", "Partner"]


def test_a_bad_label_names_its_line_and_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "google.csv"
    path.write_text(
        f"First Name,Last Name,E-mail 1 - Value,Labels\nAna,Lopez,ana@x.test,{'x' * 41}\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as info:
        import_file(viewer=SYSTEM, path=str(path))
    assert "line 2, column 'Labels'" in info.value.message
    assert "at most 40 characters" in info.value.message
    assert not Record.objects.filter(name="Ana Lopez").exists()


def test_google_address_is_stored_once(tmp_path: Path) -> None:
    path = tmp_path / "google.csv"
    path.write_text(
        "First Name,Last Name,E-mail 1 - Value,Address 1 - Formatted,Address 1 - Street,"
        "Address 1 - City,Address 1 - Postal Code,Address 2 - Street,Address 2 - City\n"
        'Ana,Lopez,ana@x.test,"1 Main St, Springfield 12345",1 Main St,Springfield,12345,'
        "9 Elm Rd,Shelbyville\n",
        encoding="utf-8",
    )
    import_file(viewer=SYSTEM, path=str(path))
    ana = Record.objects.get(name="Ana Lopez")
    # the whole address once; the second (no whole form) from its parts
    assert ana.fields["location"] == "1 Main St, Springfield 12345, 9 Elm Rd, Shelbyville"
