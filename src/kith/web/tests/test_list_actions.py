"""List pages act: filter by tag, tick rows and tag, set, delete or export them, export the
list or a saved view; private records are never reached."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from django.test import Client

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user
from kith.lists.services import save_view
from kith.records.models import Record
from kith.records.selectors import tags_of
from kith.records.tags import tag_records
from kith.testing import make_org, make_person


def _csv(resp) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    body = b"".join(resp.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_tag_filter_column_and_export_links(member: Client) -> None:
    acme = make_org("Acme")
    ann = make_person("Ann Able", email="ann@acme.test", org=acme)
    make_person("Bob Best", email="bob@acme.test", org=acme)
    tag_records(records=[ann], tags=["Investor"])
    html = member.get("/people", {"tag": "investor", "cols": ["email", "tags"]}).content.decode()
    table = html.split('id="list-table"')[1]
    assert "Ann Able" in table and "Bob Best" not in table
    assert 'class="tag" href="/people?tag=Investor">Investor</a>' in table
    assert 'href="/list/person/export?format=xlsx&amp;tag=investor' in html
    assert 'name="ids" value="' + ann.id + '" form="list-bulk"' in html
    bad = member.get("/people", {"tag": "a,b"})
    assert bad.status_code == 400 and "tag: &#39;a,b&#39; is not a tag" in bad.content.decode()


def test_tick_rows_then_tag_set_and_delete(member: Client, viewer: Client) -> None:
    ann, bob, cy = (make_person(n) for n in ("Ann Able", "Bob Best", "Cy Cole"))
    resp = member.post(
        "/list/person/bulk",
        {
            "state": "q=b",
            "scope": "selected",
            "ids": [ann.id, bob.id],
            "action": "tag",
            "value": "vip",
        },
    )
    assert resp.status_code == 302 and resp["Location"] == "/people?q=b"
    assert tags_of([ann.id, bob.id, cy.id]) == {ann.id: ["vip"], bob.id: ["vip"]}
    page = member.get(resp["Location"]).content.decode()
    assert "Tagged 2 records (2 changed)." in page
    resp = member.post(
        "/list/person/bulk", {"state": "tag=vip", "scope": "all", "action": "delete"}
    )
    assert resp.status_code == 302
    assert set(Record.objects.filter(deleted_at__isnull=False).values_list("id", flat=True)) == {
        ann.id,
        bob.id,
    }
    resp = member.post(
        "/list/person/bulk", {"state": "", "scope": "selected", "action": "tag", "value": "x"}
    )
    assert resp.status_code == 400 and "tick the rows" in resp.content.decode()
    resp = member.post(
        "/list/person/bulk",
        {"state": "", "scope": "all", "action": "set", "field": "title", "value": "x" * 2000},
    )
    assert resp.status_code in (302, 400)
    assert (
        viewer.post(
            "/list/person/bulk", {"state": "", "scope": "all", "action": "delete"}
        ).status_code
        == 403
    )
    assert Record.objects.get(pk=cy.pk).deleted_at is None


def test_exports_from_the_web_leave_private_records_out(make_client: Callable[..., Client]) -> None:
    add_user(email="owner@our.test", role="member", password="correct horse battery")
    owner = get_user("owner@our.test")
    add_owned_record(user=owner, private=True, type_key="person", name="Ann Secret")
    make_person("Ann Open", email="open@x.test")
    someone = make_client("member")
    resp = someone.get("/list/person/export", {"format": "csv", "q": "ann"})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    assert [r["Name"] for r in _csv(resp)] == ["Ann Open"]
    mine = Client()
    mine.force_login(owner)
    assert sorted(r["Name"] for r in _csv(mine.get("/list/person/export", {"q": "ann"}))) == [
        "Ann Open",
        "Ann Secret",
    ]
    view = save_view(viewer=viewer_of(owner), type_key="person", name="Anns", query={"q": ["ann"]})
    assert someone.get("/list/person/export", {"view": str(view.id)}).status_code == 404
    resp = mine.get("/list/person/export", {"view": str(view.id), "format": "vcard"})
    assert b"".join(resp.streaming_content).decode().count("BEGIN:VCARD") == 2
    resp = someone.post(
        "/list/person/bulk", {"state": "q=ann", "scope": "all", "action": "export-xlsx"}
    )
    assert resp.status_code == 200 and resp["Content-Disposition"].endswith('.xlsx"')
    assert someone.get("/list/person/export", {"format": "doc"}).status_code == 400
