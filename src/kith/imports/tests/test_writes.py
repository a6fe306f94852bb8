"""Imports write only through the owning apps' checks: one email stays on one record."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kith.accounts.services import add_owned_record
from kith.core.events import subscribe
from kith.core.models import Change
from kith.core.viewer import SYSTEM, Viewer
from kith.imports.services import import_file
from kith.records.models import ContactPoint, Record
from kith.relationships.models import Relationship
from kith.testing import make_home, make_person

Cli = Callable[..., tuple[int, str, str]]


def _live_holders(email: str) -> list[str]:
    return sorted(
        ContactPoint.objects.filter(
            kind="email",
            normalized=email,
            record__deleted_at__isnull=True,
            record__merged_into__isnull=True,
        ).values_list("record_id", flat=True)
    )


def _csv(tmp_path: Path, *rows: str) -> str:
    path = tmp_path / "people.csv"
    path.write_text("name,email,email\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_row_with_two_records_emails_is_refused_naming_both(cli: Cli, tmp_path: Path) -> None:
    ana = make_person("Ana Lopez", email="ana@x.example")
    bo = make_person("Bo Ng", email="bo@y.example")
    code, _out, err = cli("import", _csv(tmp_path, "Ana B,ana@x.example,bo@y.example"))
    assert code == 1
    assert f"Ana Lopez's ({ana.id})" in err and f"Bo Ng's ({bo.id})" in err
    assert "line 2" in err
    assert _live_holders("bo@y.example") == [bo.id]
    assert _live_holders("ana@x.example") == [ana.id]


def test_skip_bad_imports_the_rest_and_rejects_that_row(cli: Cli, tmp_path: Path) -> None:
    make_person("Ana Lopez", email="ana@x.example")
    bo = make_person("Bo Ng", email="bo@y.example")
    file = _csv(tmp_path, "Ana B,ana@x.example,bo@y.example", "Cy Young,cy@z.example,")
    code, _out, err = cli("import", file, "--skip-bad", "--json")
    assert code == 0, err
    assert _live_holders("bo@y.example") == [bo.id]
    assert Record.objects.filter(name="Cy Young").count() == 1
    rejects = (tmp_path / "people.rejects.csv").read_text(encoding="utf-8")
    assert "ana@x.example,bo@y.example" in rejects and "cy@z.example" not in rejects


def test_rows_of_one_file_that_would_join_two_new_records_are_refused(
    cli: Cli, tmp_path: Path
) -> None:
    file = _csv(
        tmp_path, "Ana,ana@x.example,", "Bo,bo@y.example,", "Ana Bo,ana@x.example,bo@y.example"
    )
    code, _out, err = cli("import", file)
    assert code == 1 and "line 4" in err and "one row cannot be two records" in err
    assert Record.objects.count() == 0


# -- cost: one event and a few queries per batch, not per row -------------------------------


def _people_csv(tmp_path: Path, n: int, *, phone: bool) -> str:
    path = tmp_path / ("update.csv" if phone else "people.csv")
    lines = ["name,email,phone,note"]
    for i in range(n):
        extra = f"+1 415 555 {i:04d},met at the fair" if phone else ","
        lines.append(f"Person {i},p{i}@c{i % 7}.example,{extra}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_updating_100_people_costs_a_few_queries_and_one_event(tmp_path: Path) -> None:

    make_home()
    import_file(viewer=SYSTEM, path=_people_csv(tmp_path, 100, phone=False))
    seen: list[tuple[str, dict[str, object]]] = []
    for event in ("records.imported", "record.updated", "record.created"):
        subscribe(event, lambda _e=event, **payload: seen.append((_e, payload)))
    with CaptureQueriesContext(connection) as ctx:
        report = import_file(viewer=SYSTEM, path=_people_csv(tmp_path, 100, phone=True))
    assert report["counts"]["records_updated"] == 100
    # a constant number per batch (today ~40, a full pair-table rebuild included): at most
    # one per row, where it was ~22 per row (an ORM update, history and events for each)
    assert len(ctx.captured_queries) <= 100, len(ctx.captured_queries)
    assert [e for e, _ in seen] == ["records.imported"]
    assert len(seen[0][1]["updated_ids"]) == 100  # type: ignore[arg-type]
    one = Record.objects.get(contacts__normalized="p7@c0.example")
    assert one.fields["notes"] == "met at the fair" and one.version == 2
    assert one.contacts.get(kind="phone").primary
    changes = {c.field: (c.old, c.new) for c in Change.objects.filter(entity_id=one.id)}
    assert changes["phones"] == (None, ["+1 415 555 0007"])
    assert changes["fields.notes"] == (None, "met at the fair")


# -- privacy: an import sees only what its viewer may see ------------------------------------


def _member(email: str) -> tuple[Viewer, Any]:

    user = User.objects.create_user(username=email, password="x")
    return Viewer(user_id=user.pk, admin=False, label=email), user


def _private(user: Any, **kwargs: Any) -> Record:

    return add_owned_record(user=user, private=True, **kwargs)


def test_member_import_never_writes_into_a_private_person(tmp_path: Path) -> None:
    _, owner = _member("owner@our.test")
    member, _ = _member("member@our.test")
    sam = _private(owner, type_key="person", name="Secret Sam", emails=["sam@x.test"])
    path = tmp_path / "one.csv"
    path.write_text("name,email,phone\nSam,sam@x.test,+1 415 555 0199\n", encoding="utf-8")
    report = import_file(viewer=member, path=str(path))
    assert report["counts"] == {"person_created": 1}
    assert not sam.contacts.filter(kind="phone").exists()
    made = Record.objects.exclude(pk=sam.pk).get(type_id="person")
    assert made.private is False and made.contacts.filter(normalized="+14155550199").exists()


def test_member_import_never_ties_a_public_person_to_a_private_org(tmp_path: Path) -> None:

    _, owner = _member("owner@our.test")
    member, _ = _member("member@our.test")
    secret = _private(owner, type_key="organization", name="Hidden Co", domains=["hidden.test"])
    path = tmp_path / "one.csv"
    path.write_text("name,email,company\nAnn,ann@hidden.test,Hidden Co\n", encoding="utf-8")
    report = import_file(viewer=member, path=str(path))
    assert report["counts"]["organization_created"] == 1
    assert not Relationship.objects.filter(to_record=secret).exists()
    ann = Record.objects.get(name="Ann")
    assert Relationship.objects.get(from_record=ann).to_record.private is False


def test_dry_run_counts_do_not_tell_an_email_is_held_privately(tmp_path: Path) -> None:
    _, owner = _member("owner@our.test")
    member, _ = _member("member@our.test")
    path = tmp_path / "one.csv"
    path.write_text("name,email\nSam,sam@x.test\n", encoding="utf-8")
    alone = import_file(viewer=member, path=str(path), dry_run=True)
    _private(owner, type_key="person", name="Secret Sam", emails=["sam@x.test"])
    held = import_file(viewer=member, path=str(path), dry_run=True)
    assert held["counts"] == alone["counts"] == {"person_created": 1}
    # the owner (and the system) match their own private record
    mine = import_file(viewer=Viewer(user_id=owner.pk), path=str(path), dry_run=True)
    assert mine["counts"] == {"person_matched": 1}
    assert import_file(viewer=SYSTEM, path=str(path), dry_run=True)["counts"] == {
        "person_matched": 1
    }
