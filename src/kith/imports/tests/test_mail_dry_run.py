"""The mbox dry run lists the organisations (by domain) and people an import would create,
with counts; --exclude-domain / --exclude-address leave them out of the dry run and of the
real import alike; a bad value is a one-line error (issue 11)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from kith.records.models import ContactPoint, Record
from kith.testing import make_home, make_person

Cli = Callable[..., tuple[int, str, str]]
MAIL = """From x@y Mon Jan  1 00:00:00 2024
From: {frm}
To: me@our.test
Subject: hello {n}
Date: Mon, 1 Jan 2024 10:00:00 +0000
Message-ID: <m{n}@test>

Hello

"""
SENDERS = [
    "Ann Real <ann@acme.test>",
    "Al Real <al@eu.acme.test>",
    "Val Vendor <val@vendor.test>",
    "Pat Pal <pat@gmail.com>",
    "Recruiter <jobs@hire.test>",
]


def _mbox(tmp_path: Path) -> Path:
    path = tmp_path / "mail.mbox"
    text = "".join(MAIL.format(frm=f, n=n) for n, f in enumerate(SENDERS))
    path.write_text(text, encoding="utf-8")
    return path


def test_dry_run_lists_what_it_would_create_and_excludes(tmp_path: Path, cli: Cli) -> None:
    make_home("Us", "our.test")
    make_person("Me", email="me@our.test")
    path = _mbox(tmp_path)
    code, out, _ = cli("import", str(path), "--dry-run", "--json")
    assert code == 0
    made = json.loads(out)["would_create"]
    assert made["people_count"] == 5 and made["organizations_count"] == 3
    # most people first: al@eu.acme.test works at the same Acme
    assert made["organizations"][0] == {"domain": "acme.test", "name": "Acme", "people": 2}
    assert {o["domain"] for o in made["organizations"]} == {"acme.test", "vendor.test", "hire.test"}
    assert {p["email"] for p in made["people"]} == {
        "ann@acme.test", "al@eu.acme.test", "val@vendor.test", "pat@gmail.com", "jobs@hire.test"
    }  # fmt: skip
    assert not ContactPoint.objects.filter(normalized="ann@acme.test").exists()  # dry

    code, out, _ = cli("import", str(path), "--dry-run")  # the human-readable list
    assert code == 0
    assert "would create 3 organisations, 5 people" in out
    assert "organisation Vendor (vendor.test): 1 people" in out
    assert "person Val Vendor <val@vendor.test> at Vendor" in out

    excludes = ["--exclude-domain", "vendor.test", "--exclude-domain", "HIRE.test"]
    excludes += ["--exclude-address", "al@eu.acme.test"]
    code, out, _ = cli("import", str(path), "--dry-run", "--json", *excludes)
    report = json.loads(out)
    made = report["would_create"]
    assert {o["domain"] for o in made["organizations"]} == {"acme.test"}
    assert {p["email"] for p in made["people"]} == {"ann@acme.test", "pat@gmail.com"}
    assert report["counts"]["excluded_addresses_left_out"] == 3

    code, out, _ = cli("import", str(path), "--json", *excludes)  # the real import honours them
    assert code == 0 and "would_create" not in json.loads(out)
    emails = set(ContactPoint.objects.filter(kind="email").values_list("normalized", flat=True))
    assert {"ann@acme.test", "pat@gmail.com"} <= emails
    assert not emails & {"val@vendor.test", "jobs@hire.test", "al@eu.acme.test"}
    assert not Record.objects.filter(type_id="organization", name__in=["Vendor", "Hire"]).exists()


def test_a_bad_exclude_value_is_one_line_and_changes_nothing(tmp_path: Path, cli: Cli) -> None:
    path = _mbox(tmp_path)
    code, out, err = cli("import", str(path), "--exclude-address", "not an address")
    assert code != 0 and "--exclude-address" in err and "Traceback" not in err + out
    assert not ContactPoint.objects.filter(normalized="ann@acme.test").exists()
