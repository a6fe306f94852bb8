"""Backup and restore in this process: round trip, empty-workspace rule, damaged files."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from kith.backup.codec import dump_rows
from kith.backup.services import _is_seeded, backup_models, create_backup, restore_backup
from kith.core.errors import Conflict, KithError
from kith.dedupe.services import merge_records
from kith.records.models import Record
from kith.records.services import add_field, add_person, define_type, update_record
from kith.relationships.services import add_type
from kith.testing import log, make_home, make_org, make_person, relate


def _everything() -> dict[str, list[dict[str, Any]]]:
    return {m._meta.label: dump_rows(m) for m in backup_models()}


def _wipe() -> None:
    for model in reversed(backup_models()):
        if not _is_seeded(model):
            model._default_manager.all().delete()


def _workspace() -> None:
    home = make_home("Our Co", "our.test")
    acme = make_org("Acme", domains=("acme.test",), industry="tools", size=50)
    me = make_person("Mia Team", email="mia@our.test", org=home)
    jane = make_person("Jane Doe", email="jane@acme.test", org=acme, role="CEO", title="CEO")
    dup = add_person(name="Jane  Doe", emails=["jane.d@acme.test"], fields={"location": "Zürich"})
    define_type(key="project", fields=["budget:number", "stage:choice:idea|live", "due:date"])
    add_field(type_key="person", spec="vip:bool")
    add_type(name="sponsors", inverse="sponsored_by")
    relate(me, "knows", jane, since="2024-02-29")
    update_record(ref=jane.id, values={"vip": "yes", "notes": "likes \u2603 and\nnewlines"})
    log("meeting", me, jane, at="2026-03-01T09:30:00.123456+02:00", links=(acme,), sentiment=0.25)
    log("email", jane, at="2026-03-02T10:00Z", subject="Re: ünïcödé", score=9.5)
    merge_records(keep=jane.id, other=dup.id)


def test_round_trip_restores_every_row(tmp_path: Path) -> None:
    _workspace()
    before = _everything()
    result = create_backup(tmp_path / "ws.kith.gz")
    assert result["rows"] == sum(len(v) for v in before.values())
    _wipe()
    assert Record.objects.count() == 0
    restored = restore_backup(tmp_path / "ws.kith.gz")
    assert restored["rows"] == result["rows"]
    assert _everything() == before
    # sequences continue after the restored ids: new rows do not collide
    person = add_person(name="After Restore", emails=["after@x.test"])
    assert person.contacts.count() == 1


def test_restore_refuses_a_workspace_with_data_and_changes_nothing(tmp_path: Path) -> None:
    _workspace()
    create_backup(tmp_path / "ws.kith.gz")
    before = _everything()
    with pytest.raises(Conflict, match="not empty"):
        restore_backup(tmp_path / "ws.kith.gz")
    assert _everything() == before


def test_existing_file_is_not_overwritten_without_force(tmp_path: Path) -> None:
    target = tmp_path / "ws.kith.gz"
    target.write_text("keep me")
    with pytest.raises(Conflict, match="exists"):
        create_backup(target)
    assert target.read_text() == "keep me"
    create_backup(target, overwrite=True)
    with gzip.open(target, "rt") as fh:
        assert fh.readline().startswith('{"format":"kith-backup"')


def _rewrite(path: Path, lines: list[str]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("".join(lines))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate", "ends early"),
        ("bad row", "a row of"),
        ("bad value", "bad value"),
        ("version", "format version"),
        ("not json", "not JSON"),
        ("unknown table", "unknown to this Kith"),
    ],
)
def test_damaged_files_restore_nothing(tmp_path: Path, damage: str, message: str) -> None:
    _workspace()
    good = tmp_path / "ws.kith.gz"
    create_backup(good)
    _wipe()
    empty = _everything()
    with gzip.open(good, "rt", encoding="utf-8") as fh:
        lines = fh.readlines()
    record_at = next(i for i, line in enumerate(lines) if '"table":"records.record"' in line)
    if damage == "truncate":
        lines = lines[: len(lines) - 3]
    elif damage == "bad row":
        lines[record_at + 1] = "[1, 2]\n"
    elif damage == "bad value":
        row = json.loads(lines[record_at + 1])
        row[-4] = "yesterday"  # created_at
        lines[record_at + 1] = json.dumps(row) + "\n"
    elif damage == "version":
        header = json.loads(lines[0])
        header["version"] = 99
        lines[0] = json.dumps(header) + "\n"
    elif damage == "not json":
        lines[record_at + 1] = "{oops\n"
    else:
        lines[record_at] = lines[record_at].replace("records.record", "records.nothing")
    bad = tmp_path / "bad.kith.gz"
    _rewrite(bad, lines)
    with pytest.raises(KithError, match=message):
        restore_backup(bad)
    assert _everything() == empty


def test_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    plain = tmp_path / "notes.txt"
    plain.write_text("hello")
    with pytest.raises(KithError, match="not a Kith backup"):
        restore_backup(plain)
    cut = tmp_path / "cut.kith.gz"
    create_backup(cut)
    cut.write_bytes(cut.read_bytes()[:60])
    with pytest.raises(KithError, match="damaged or truncated"):
        restore_backup(cut)
    with pytest.raises(KithError, match="no backup file"):
        restore_backup(tmp_path / "missing.gz")


def test_cli_spellings(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_person("Jane Doe", email="jane@acme.test")
    first, second = tmp_path / "a.kith.gz", tmp_path / "b.kith.gz"
    code, out, _ = cli("backup", str(first), "--json")
    assert code == 0 and json.loads(out)["tables"]["records.record"] == 1
    code, out, _ = cli("backup", "create", str(second))
    assert code == 0 and "saved" in out and "mode 0600: only you can read it" in out
    code, _, err = cli("backup", str(first))
    assert code == 1 and "exists" in err
    code, _, err = cli("backup", "restore", str(first))
    assert code == 1 and "not empty" in err
    _wipe()
    code, out, _ = cli("backup", "restore", str(first), "--json")
    assert code == 0 and json.loads(out)["tables"]["records.record"] == 1
    assert Record.objects.get().name == "Jane Doe"


def test_a_backup_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, which once made backups world-readable
    try:
        target = tmp_path / "secret.kith.gz"
        target.write_text("old")
        target.chmod(0o644)
        create_backup(target, overwrite=True)
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o600
