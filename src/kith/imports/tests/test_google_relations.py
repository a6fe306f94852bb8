"""Google Contacts' "Relation N" columns become relationships (or notes with their label),
its "Anniversary" and "Event N" anniversaries a date field; a bad date names its line and
column and imports nothing (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kith.core.viewer import SYSTEM
from kith.imports.services import ImportFailed, import_file
from kith.records.models import ContactPoint, FieldDef, Record
from kith.relationships.models import Relationship

HEADER = (
    "First Name,Last Name,E-mail 1 - Value,Relation 1 - Label,Relation 1 - Value,"
    "Event 1 - Label,Event 1 - Value,Anniversary\n"
)


def _person(email: str) -> Record:
    return Record.objects.get(pk=ContactPoint.objects.get(kind="email", normalized=email).record_id)


def test_relations_and_anniversaries(tmp_path: Path) -> None:
    path = tmp_path / "google.csv"
    path.write_text(
        HEADER + "Ana,Lopez,ana@x.test,Spouse,Bo Smith,Anniversary,2012-06-09,\n"
        "Bo,Smith,bo@x.test,Friend,Nobody Known,Graduation,2001-07-01,2012-06-09\n",
        encoding="utf-8",
    )
    dry = import_file(viewer=SYSTEM, path=str(path), dry_run=True)
    assert dry["counts"]["relationships_created"] == 1
    assert not FieldDef.objects.filter(name="anniversary").exists()  # the dry run added none
    report = import_file(viewer=SYSTEM, path=str(path))
    assert report["counts"]["relationships_created"] == 1
    assert report["counts"]["relations_kept_as_notes"] == 1
    ana, bo = _person("ana@x.test"), _person("bo@x.test")
    rel = Relationship.objects.get(from_record=ana, to_record=bo)
    assert rel.type_id == "spouse_of"
    assert ana.fields["anniversary"] == "2012-06-09" == bo.fields["anniversary"]
    assert FieldDef.objects.get(record_type_id="person", name="anniversary").kind == "date"
    assert "Relation (Friend): Nobody Known" in bo.fields["notes"]
    assert "Graduation: 2001-07-01" in bo.fields["notes"]
    import_file(viewer=SYSTEM, path=str(path))  # a re-import adds nothing twice
    bo = _person("bo@x.test")
    assert bo.fields["notes"].count("Relation (Friend)") == 1
    assert Relationship.objects.filter(from_record=ana, to_record=bo).count() == 1


def test_relation_to_a_person_already_in_kith(tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text("Name,Email\nCy Cole,cy@x.test\n", encoding="utf-8")
    import_file(viewer=SYSTEM, path=str(first))
    path = tmp_path / "google.csv"
    path.write_text(HEADER + "Di,Dunn,di@x.test,Mother,Cy Cole,,,\n", encoding="utf-8")
    import_file(viewer=SYSTEM, path=str(path))
    # Di's mother is Cy: stored the canonical way round, Cy parent_of Di
    rel = Relationship.objects.get(to_record=_person("di@x.test"))
    assert rel.from_record_id == _person("cy@x.test").id and rel.type_id == "parent_of"


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("Ed,Eng,ed@x.test,,,Anniversary,31/31/2010,\n", "Event 1 - Value"),
        ("Ed,Eng,ed@x.test,,,,,not a date\n", "Anniversary"),
    ],
)
def test_a_bad_anniversary_names_line_and_column(tmp_path: Path, row: str, column: str) -> None:
    path = tmp_path / "google.csv"
    path.write_text(HEADER + "Fa,Fox,fa@x.test,,,,,\n" + row, encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        import_file(viewer=SYSTEM, path=str(path))
    assert "line 3" in caught.value.message and column in caught.value.message
    assert "is not a date" in caught.value.message
    assert not ContactPoint.objects.filter(normalized="fa@x.test").exists()
    assert not FieldDef.objects.filter(name="anniversary").exists()
