"""Import of survey-tool exports: a Google Forms response sheet (CSV and XLSX) and a generic
file, by preset or --map; idempotent; a bad row names its line and nothing is imported."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from kith.core.errors import ValidationError
from kith.core.viewer import SYSTEM
from kith.interactions.models import Interaction
from kith.records.models import Record
from kith.surveys import services
from kith.surveys.importing import import_responses
from kith.testing import make_home, make_org, make_person

GOOGLE = [
    ["Timestamp", "Email Address", "How likely are you to recommend Kith to a friend?",
     "What is the main reason for your score?", "Which team do you work in?"],
    ["6/1/2026 9:14:02", "ann@acme.test", "10", "Great support, fast answers.", "Finance"],
    ["6/2/2026 17:40:55", "bob@acme.test", "4", "Too many bugs and slow responses.", "IT"],
    ["6/3/2026 8:01:10", "new.face@delta.test", "8", "", "Ops"],
]  # fmt: skip


@pytest.fixture
def people(time_travel) -> None:
    make_home()
    acme = make_org("Acme")
    make_person("Ann Lee", email="ann@acme.test", org=acme)
    make_person("Bob Ray", email="bob@acme.test", org=acme)


def _csv(tmp_path: Path, rows: list[list[str]], name: str = "responses.csv") -> str:
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return str(path)


def test_google_forms_csv_is_found_and_imported_once(people, tmp_path: Path) -> None:
    path = _csv(tmp_path, GOOGLE)
    out = import_responses(viewer=SYSTEM, path=path)
    assert out["preset"] == "google-forms" and (out["imported"], out["already_there"]) == (3, 0)
    assert out["columns"]["How likely are you to recommend Kith to a friend?"] == "score"
    assert out["columns"]["What is the main reason for your score?"] == "comment"
    bob = Interaction.objects.get(kind="survey", participants__record__name="Bob Ray")
    assert bob.score == 4 and bob.body == "Too many bugs and slow responses."
    assert bob.meta["survey_kind"] == "csat"  # no survey named, 1-5: CSAT
    assert bob.meta["answers"] == {"Which team do you work in?": "IT"}
    assert bob.at.isoformat() == "2026-06-02T17:40:55+00:00"
    assert bob.links.get().record.name == "Acme"
    assert Record.objects.filter(name="New Face").exists()  # a new respondent, by email
    again = import_responses(viewer=SYSTEM, path=path)
    assert (again["imported"], again["already_there"]) == (0, 3)
    assert Interaction.objects.filter(kind="survey").count() == 3


def test_google_forms_xlsx_with_a_named_survey(people, tmp_path: Path) -> None:
    s = services.add_survey(
        kind="nps", question="How likely are you to recommend Kith to a friend?"
    )
    wb = Workbook()
    for row in GOOGLE:
        wb.active.append(row)
    path = tmp_path / "Form responses 1.xlsx"
    wb.save(path)
    out = import_responses(viewer=SYSTEM, path=str(path), survey=s.name)
    assert out["imported"] == 3
    kinds = set(
        Interaction.objects.filter(kind="survey").values_list("meta__survey_kind", flat=True)
    )
    assert kinds == {"nps"}


def test_generic_file_by_map(people, tmp_path: Path) -> None:
    rows = [["Resp", "Rating", "Said", "Who", "When"],
            ["r-1", "5", "Lovely", "ann@acme.test", "2026-05-02"],
            ["r-2", "2", "Meh", "bob@acme.test", "2026-05-03"]]  # fmt: skip
    path = _csv(tmp_path, rows)
    with pytest.raises(ValidationError, match="no email"):
        import_responses(viewer=SYSTEM, path=path)
    out = import_responses(viewer=SYSTEM, path=path, mapping=[
        "Resp=id", "Rating=score", "Said=comment", "Who=email", "When=date"])  # fmt: skip
    assert out["preset"] == "generic" and out["imported"] == 2
    assert Interaction.objects.filter(external_id="survey-import:generic:r-2").exists()


def test_a_bad_row_names_its_line_and_nothing_is_imported(people, tmp_path: Path) -> None:
    rows = [*GOOGLE[:3], ["6/4/2026 10:00:00", "cy@acme.test", "eleven", "", ""]]
    path = _csv(tmp_path, rows)
    with pytest.raises(ValidationError) as err:
        import_responses(viewer=SYSTEM, path=path)
    assert err.value.message == (
        "responses.csv: line 4: How likely are you to recommend Kith to a friend?: 'eleven' "
        "is not a number"
    )
    assert Interaction.objects.filter(kind="survey").count() == 0


def test_cli_import_and_surveys(people, tmp_path: Path, cli) -> None:
    path = _csv(tmp_path, GOOGLE)
    code, out, _ = cli("survey", "add", "nps", "--question", "Recommend us?", "--name", "Q2",
                       "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["kind"] == "nps"
    code, out, _ = cli("survey", "import", path, "--survey", "Q2", "--json")
    assert code == 0 and json.loads(out)["imported"] == 3
    code, out, _ = cli("survey", "import", path, "--survey", "Q2")
    assert code == 0 and "0 imported, 3 already there" in out
    code, out, _ = cli("surveys", "--json")
    assert code == 0 and [s["name"] for s in json.loads(out)] == ["Q2"]
    code, _, err = cli("survey", "import", path, "--preset", "typeform")
    assert code == 1 and "preset: 'typeform' is not one of google-forms, generic" in err
    code, out, _ = cli("survey", "send", "Q2", "--to", "Acme", "--dry-run", "--json")
    assert code == 0 and len(json.loads(out)["asked"]) == 2
