"""The mbox import's fast paths read exactly what the stdlib reads, and the helper process
that parses big mailboxes ahead imports exactly what an in-process read does."""

from __future__ import annotations

import email.utils
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

import pytest

from kith.core.viewer import SYSTEM
from kith.imports import mail, readahead
from kith.imports.services import ImportFailed, import_file
from kith.interactions.models import Interaction, Participant
from kith.records.models import ContactPoint, Record
from kith.relationships.models import Relationship
from kith.testing import make_home

FIX = Path(__file__).parent / "fixtures"

PLAIN = [
    b"From: Ann <ann@x.example>\nTo: b@y.example,\n  c@z.example\nSubject:\n  folded\n\nhi\n",
    b"Received: a\nReceived: b\nX-Empty:\nX-Tabs:\t\t v \nDate: Mon, 1 Jan 2024 10:00:00 +0100\n\n",
    b"subject: lower\nSUBJECT: upper\nMessage-ID: <m@x>\n\n",
]
UNUSUAL = [
    b"From: a@x.example\r\nSubject: crlf\r\n\r\n",  # CR line ends
    b"From: J\xc3\xb6 <j@x.example>\n\n",  # 8-bit
    b" continued first\nFrom: a@x.example\n\n",  # a continuation line first
    b"From a@x Mon Jan  1 00:00:00 2024\nFrom: a@x.example\n\n",  # an envelope line
    b"Subject: x\nnot a header\nFrom: a@x.example\n\n",  # headers end early
    b"From: a@x.example",  # no blank line
]


def _stdlib(raw: bytes) -> dict[str, list[object]]:
    msg = BytesHeaderParser(policy=compat32).parsebytes(raw)
    return mail.Headers(msg.items()).by_name


@pytest.mark.parametrize("raw", PLAIN)
def test_fast_headers_read_what_the_stdlib_reads(raw: bytes) -> None:
    heads = mail.fast_headers(raw)
    assert heads is not None and heads.by_name == _stdlib(raw)


@pytest.mark.parametrize("raw", UNUSUAL)
def test_unusual_headers_are_left_to_the_stdlib(raw: bytes) -> None:
    assert mail.fast_headers(raw) is None


@pytest.mark.parametrize(
    "text",
    [
        "Mon, 1 Jan 2024 10:00:00 +0100",
        "1 Jan 2024 23:59:59 -0930",
        "Tue, 29 Feb 2028 00:00:00 -0000",
        "Wed, 31 Dec 2025 12:00:00 +0000",
    ],
)
def test_plain_dates_match_the_stdlib(text: str) -> None:
    want = email.utils.parsedate_to_datetime(text)
    want = want.replace(tzinfo=mail.dt.UTC) if want.tzinfo is None else want
    assert mail._plain_date(text) == want.astimezone(mail.dt.UTC)


@pytest.mark.parametrize(
    "text",
    ["Mon, 1 Jan 99 10:00:00 +0100", "1 Jan 0099 10:00:00 +0000", "31 Feb 2024 10:00:00 +0000"],
)
def test_other_dates_are_left_to_the_stdlib(text: str) -> None:
    assert mail._plain_date(text) is None


def _message(n: int, to: str) -> str:
    return (
        f"From x Mon Jan  1 00:00:00 2024\nFrom: Pat <pat@our.example>\nTo: {to}\n"
        f"Subject: m{n}\nDate: Mon, 1 Jan 2024 10:0{n}:00 +0000\nMessage-ID: <m{n}@t>\n\nhi\n\n"
    )


def test_an_address_seen_again_is_the_same_person(tmp_path: Path) -> None:
    make_home()
    box = tmp_path / "box.mbox"
    to = "Ann Lee <ann@acme.example>, bo@acme.example"
    box.write_text(_message(1, to) + _message(2, to) + _message(3, "ANN@ACME.EXAMPLE"))
    mail._ADDRESS_CACHE.clear()
    assert import_file(viewer=SYSTEM, path=str(box))["counts"]["interactions_created"] == 3
    ann = Record.objects.get(contacts__normalized="ann@acme.example")
    assert ann.name == "Ann Lee"
    assert Participant.objects.filter(record=ann).count() == 3
    assert Record.objects.filter(type_id="person").count() == 3  # Pat, Ann, Bo
    assert Relationship.objects.filter(to_record__name="Acme").count() == 2


def _state() -> list[tuple[object, ...]]:
    who = dict(ContactPoint.objects.values_list("record_id", "normalized"))
    inters = list(
        Interaction.objects.values_list("external_id", "at", "subject", "direction", "thread_id")
    )
    parts = Participant.objects.values_list("interaction__external_id", "record_id", "role")
    return sorted(inters) + sorted((e, who.get(r, r), role) for e, r, role in parts)


def test_the_helper_process_imports_what_an_in_process_read_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_home()
    box = tmp_path / "box.mbox"
    box.write_text((FIX / "box.mbox").read_text() + "\n" + _message(1, "ann@acme.example"))
    import_file(viewer=SYSTEM, path=str(box))
    in_process = _state()
    Interaction.objects.all().delete()
    monkeypatch.setattr(readahead, "READ_AHEAD_BYTES", 0)

    def not_here(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed in the importing process, not the helper")

    monkeypatch.setattr(mail, "mbox_units", not_here)  # the helper is another process
    report = import_file(viewer=SYSTEM, path=str(box))
    assert report["counts"]["interactions_created"] == 4
    assert _state() == in_process
    assert import_file(viewer=SYSTEM, path=str(box))["counts"] == {"interactions_already_there": 4}


def test_a_bad_message_read_by_the_helper_fails_the_import_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(readahead, "READ_AHEAD_BYTES", 0)
    with pytest.raises(ImportFailed, match=r"message 1.*From.*no valid sender"):
        import_file(viewer=SYSTEM, path=str(FIX / "broken-part.mbox"))
    assert not Interaction.objects.exists()


def test_a_helper_that_cannot_start_means_reading_in_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(readahead, "READ_AHEAD_BYTES", 0)
    monkeypatch.setattr(readahead.sys, "executable", "/nonexistent/python")
    assert (
        import_file(viewer=SYSTEM, path=str(FIX / "box.mbox"))["counts"]["interactions_created"]
        == 3
    )
    monkeypatch.setattr(readahead.sys, "executable", "/usr/bin/uwsgi")  # not a python
    assert import_file(viewer=SYSTEM, path=str(FIX / "box.mbox"))["counts"] == {
        "interactions_already_there": 3
    }
