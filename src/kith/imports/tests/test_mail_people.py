"""mbox import makes no organisation of a personal mail domain (gmail-like or a person's own
vanity domain) and no person of a mailing list, a bulk sender or a noreply address."""

from __future__ import annotations

from pathlib import Path

from kith.core.viewer import SYSTEM
from kith.imports.services import import_file
from kith.records.models import ContactPoint, Record
from kith.testing import make_home, make_person

MAIL = """From x@y Mon Jan  1 00:00:00 2024
From: {frm}
To: {to}
Subject: {subject}
Date: Mon, 1 Jan 2024 10:00:00 +0000
Message-ID: <{mid}@test>
{extra}
Hello

"""


def _mbox(tmp_path: Path, messages: list[dict[str, str]]) -> Path:
    path = tmp_path / "mail.mbox"
    path.write_text("".join(MAIL.format(**{"extra": "", **m}) for m in messages), encoding="utf-8")
    return path


def test_lists_bulk_and_noreply_make_no_people_and_personal_domains_no_orgs(tmp_path: Path) -> None:
    make_home("Us", "our.test")
    make_person("Me", email="me@our.test")
    make_person("Known Poster", email="poster@corp.test")
    path = _mbox(
        tmp_path,
        [
            {"frm": "Jane Doe <jane@janedoe.com>", "to": "me@our.test", "subject": "hi", "mid": "1"},
            {"frm": "Bob <bob@gmail.com>", "to": "me@our.test", "subject": "yo", "mid": "2"},
            {"frm": "Ann Real <ann@acme.test>", "to": "me@our.test", "subject": "deal", "mid": "3"},
            {"frm": "GitHub <noreply@github.com>", "to": "me@our.test", "subject": "PR", "mid": "4"},
            {"frm": "Stranger <s@lists.test>", "to": "devs@lists.test", "subject": "list",
             "mid": "5", "extra": "List-Id: <devs.lists.test>"},
            {"frm": "Known Poster <poster@corp.test>", "to": "devs@lists.test, me@our.test",
             "subject": "list too", "mid": "6", "extra": "List-Id: <devs.lists.test>"},
            {"frm": "Shop <deals@shop.test>", "to": "me@our.test", "subject": "sale",
             "mid": "7", "extra": "Precedence: bulk"},
        ],
    )  # fmt: skip
    report = import_file(viewer=SYSTEM, path=str(path))
    people = set(Record.objects.filter(type_id="person").values_list("name", flat=True))
    assert people == {"Me", "Known Poster", "Jane Doe", "Bob", "Ann Real"}
    orgs = set(Record.objects.filter(type_id="organization").values_list("name", flat=True))
    assert orgs == {"Us", "Acme"}  # not janedoe.com, not gmail.com, not github or the list
    assert not ContactPoint.objects.filter(normalized__in=["devs@lists.test", "s@lists.test"])
    counts = report["counts"]
    assert (counts["interactions_created"], counts["mail_from_lists_and_machines_skipped"]) == (
        3,
        4,
    )
    again = import_file(viewer=SYSTEM, path=str(path))["counts"]  # the same the second time
    assert again["mail_from_lists_and_machines_skipped"] == 4
    assert again.get("interactions_created", 0) == 0
