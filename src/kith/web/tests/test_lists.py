"""Lists of people, organisations and custom records: search, filters, sort, columns,
pages, htmx updates, URLs that hold the state, and saved views per user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

from django.test import Client

from kith.accounts.selectors import get_user
from kith.accounts.services import add_owned_record
from kith.bulk.services import load
from kith.core import clock
from kith.lists.models import SavedView
from kith.records.services import add_record, define_type, delete_record
from kith.testing import log, make_home, make_org, make_person

HX = {"HTTP_HX_REQUEST": "true"}


def _people() -> dict[str, Any]:
    home = make_home()
    mia = make_person("Mia Member", email="mia@our.test", org=home)
    acme, beta = make_org("Acme"), make_org("Beta")
    ann = make_person("Ann Able", email="ann@acme.test", org=acme, title="CTO")
    zed = make_person("Zed Zulu", email="zed@beta.test", org=beta, title="Buyer")
    log("meeting", mia, zed, at=clock.now() - dt.timedelta(days=2))
    log("call", mia, zed, at=clock.now() - dt.timedelta(days=20))
    log("call", mia, ann, at=clock.now() - dt.timedelta(days=300))
    return {"home": home, "mia": mia, "acme": acme, "beta": beta, "ann": ann, "zed": zed}


def _names(html: str) -> list[str]:
    body = html.split('id="list-table"')[1].split("</table>")[0].split("<tbody>")[1]
    return [part.split("</a>")[0].split(">")[-1] for part in body.split("<tr")[1:]]


def test_people_list_default_columns(viewer: Client) -> None:
    data = _people()
    html = viewer.get("/people").content.decode()
    assert _names(html) == ["Ann Able", "Mia Member", "Zed Zulu"]
    table = html.split('id="list-table"')[1]
    for header in ("Email", "Organisation", "Title", "Health", "Last contact"):
        assert header in table
    assert "ann@acme.test" in table and "CTO" in table
    assert f'href="/records/{data["acme"].id}"' in table
    assert "3 records" in html


def test_search_filters_and_org(member: Client) -> None:
    _people()
    assert _names(member.get("/people", {"q": "zed@"}).content.decode()) == ["Zed Zulu"]
    assert _names(member.get("/people", {"org": "Acme"}).content.decode()) == ["Ann Able"]
    html = member.get("/people", {"f.title": "buy"}).content.decode()
    assert _names(html) == ["Zed Zulu"]


def test_health_band_filter_and_sorts(member: Client) -> None:
    _people()
    strong = _names(member.get("/people", {"band": "cold"}).content.decode())
    assert "Ann Able" in strong and "Zed Zulu" not in strong
    assert _names(member.get("/people", {"sort": "-name"}).content.decode())[0] == "Zed Zulu"
    assert _names(member.get("/people", {"sort": "-health"}).content.decode())[0] == "Zed Zulu"
    by_last = _names(member.get("/people", {"sort": "-last"}).content.decode())
    assert by_last.index("Zed Zulu") < by_last.index("Ann Able")
    assert _names(member.get("/people", {"sort": "-created"}).content.decode())[0] == "Zed Zulu"


def test_column_choice(member: Client) -> None:
    _people()
    html = member.get("/people?cols=&cols=phone&cols=last").content.decode()
    table = html.split('id="list-table"')[1].split("</thead>")[0]
    assert "Phone" in table and "Last contact" in table
    assert "Email" not in table and "Organisation" not in table
    assert 'value="phone" checked' in html and 'value="email" checked' not in html


def test_deleted_only_when_asked(member: Client) -> None:

    data = _people()
    delete_record(ref=data["ann"].id)
    assert "Ann Able" not in _names(member.get("/people").content.decode())
    html = member.get("/people", {"deleted": "1"}).content.decode()
    assert "Ann Able" in _names(html) and 'class="list-deleted"' in html


def test_pages(member: Client, django_assert_max_num_queries: Any) -> None:

    make_home()
    load(records=[(f"per_{i:012d}", "person", f"Person {i:03d}", {}) for i in range(120)])
    html = member.get("/people").content.decode()
    assert "120 records · page 1 of 3" in html and len(_names(html)) == 50
    page3 = member.get("/people", {"page": "3"}).content.decode()
    assert _names(page3)[0] == "Person 100" and len(_names(page3)) == 20
    assert 'rel="prev" href="/people?page=2"' in page3
    with django_assert_max_num_queries(22):
        cols = "?cols=email&cols=phone&cols=org&cols=health&cols=last&cols=f.title&page=2"
        assert member.get("/people" + cols).status_code == 200


def test_htmx_updates_the_results_and_the_url(member: Client) -> None:
    _people()
    resp = member.get("/people", {"q": "a", "sort": "-name", "org": ""}, **HX)
    html = resp.content.decode()
    assert "<html" not in html and 'id="list-table"' in html
    assert 'id="list-sort-box" hx-swap-oob="true"' in html
    assert resp["HX-Push-Url"] == "/people?q=a&sort=-name"


def test_organisations_and_custom_types(member: Client) -> None:

    _people()
    define_type(key="vendor", fields=["tier:choice:gold|silver", "active:bool"])
    add_record(type_key="vendor", name="Gold Vend", fields={"tier": "gold", "active": True})
    add_record(type_key="vendor", name="Silver Vend", fields={"tier": "silver"})
    html = member.get("/list/vendor").content.decode()
    assert _names(html) == ["Gold Vend", "Silver Vend"] and "Tier" in html
    orgs = member.get("/orgs").content.decode()
    assert _names(orgs) == ["Acme", "Beta", "Our Co"]
    assert 'href="/list/vendor"' in orgs  # the other record lists are one click away
    assert _names(member.get("/list/vendor", {"f.tier": "gold"}).content.decode()) == ["Gold Vend"]
    assert _names(member.get("/list/vendor", {"f.active": "yes"}).content.decode()) == ["Gold Vend"]
    assert member.get("/list/person?q=ann")["Location"] == "/people?q=ann"
    assert member.get("/list/nope").status_code == 404


def test_bad_parameters_give_a_clear_message(member: Client) -> None:
    _people()
    cases = {
        "sort=bogus": "sort: &#39;bogus&#39; is not one of name, created, last, health",
        "band=purple": "band: &#39;purple&#39; is not one of",
        "org=Nowhere": "no organization record matches &#39;Nowhere&#39;",
        "cols=shoe": "cols: &#39;shoe&#39; is not a column",
        "page=0": "page: &#39;0&#39; is not a page number",
        "page=9": "page: 9 is past the last page (1)",
        "f.nope=1": "f.nope: not a field",
    }
    for query, message in cases.items():
        resp = member.get(f"/people?{query}")
        assert resp.status_code == 400, query
        assert message in resp.content.decode(), query
    html = member.get("/people?sort=bogus").content.decode()
    assert 'aria-invalid="true" aria-describedby="err-sort"' in html
    assert "sort: &#39;bogus&#39;" in member.get("/people?sort=bogus", **HX).content.decode()
    assert member.get("/list/vendor?sort=health").status_code == 404  # no such type


def test_escaped_and_private(make_client: Callable[..., Client]) -> None:

    make_home()
    owner, other = make_client("member"), make_client("member")
    make_person("<script>alert(1)</script>")
    add_owned_record(
        user=get_user("member1@our.test"), private=True, type_key="person", name="Secret Sam"
    )
    html = other.get("/people").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "Secret Sam" not in html
    assert "Secret Sam" in owner.get("/people").content.decode()


def _save(client: Client, name: str, state: str, type_key: str = "person") -> Any:
    return client.post(f"/list/{type_key}/views", {"name": name, "state": state})


def test_save_open_and_delete_a_view(member: Client) -> None:

    _people()
    resp = _save(member, "Acme CTOs", "org=Acme&cols=email&cols=f.title&sort=-name")
    assert resp.status_code == 302
    assert resp["Location"] == "/people?org=Acme&sort=-name&cols=email&cols=f.title"
    html = member.get(resp["Location"]).content.decode()
    assert "Saved the view “Acme CTOs”." in html
    saved = html.split('id="saved-views"')[1]
    link = saved.split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert parse_qs(urlparse(link).query) == {
        "org": ["Acme"],
        "sort": ["-name"],
        "cols": ["email", "f.title"],
    }
    opened = member.get(link).content.decode()
    head = opened.split('id="list-table"')[1].split("</thead>")[0]
    assert _names(opened) == ["Ann Able"] and "Title" in head and "Health" not in head
    _save(member, "Acme CTOs", "org=Beta")  # the same name replaces it
    assert SavedView.objects.get(name="Acme CTOs").query == {"org": ["Beta"]}
    view = SavedView.objects.get(name="Acme CTOs")
    assert member.post(f"/views/{view.id}/delete")["Location"] == "/people"
    assert not SavedView.objects.exists()


def test_saved_views_are_per_user(make_client: Callable[..., Client]) -> None:

    _people()
    alice, bob = make_client("member"), make_client("member")
    _save(alice, "Mine", "q=ann")
    assert "Mine" in alice.get("/people").content.decode()
    assert "Mine" not in bob.get("/people").content.decode()
    view = SavedView.objects.get()
    assert bob.post(f"/views/{view.id}/delete").status_code == 404
    assert SavedView.objects.count() == 1


def test_viewers_cannot_save_views(viewer: Client) -> None:

    _people()
    html = viewer.get("/people").content.decode()
    assert "Save view" not in html
    assert _save(viewer, "Nope", "q=a").status_code == 403
    assert not SavedView.objects.exists()


def test_saving_bad_input_changes_nothing(member: Client) -> None:

    _people()
    resp = _save(member, "   ", "q=ann")
    html = resp.content.decode()
    assert resp.status_code == 400
    assert 'aria-describedby="err-view-name"' in html and "name: give the view a name" in html
    assert _save(member, "x" * 81, "q=a").status_code == 400
    assert _save(member, "Bad", "sort=bogus").status_code == 400
    assert member.get("/list/vendor/views").status_code == 405
    assert not SavedView.objects.exists()


def test_csrf_is_required(make_client: Callable[..., Client]) -> None:
    _people()
    client = make_client("member", csrf=True)
    assert _save(client, "X", "q=a").status_code == 403
    assert 'name="csrfmiddlewaretoken"' in client.get("/people").content.decode()


def test_list_query_counts(member: Client, django_assert_max_num_queries: Any) -> None:
    data = _people()
    for i in range(40):
        make_person(f"Extra {i}", email=f"x{i}@acme.test", org=data["acme"], title="Eng")
    _save(member, "One", "q=a")
    all_cols = "cols=email&cols=phone&cols=org&cols=f.title&cols=health&cols=last"
    member.get("/people")  # warm the score cache
    for path in (
        "/people",
        f"/people?{all_cols}&sort=-health",
        "/people?sort=last&band=cold",
        "/orgs?sort=-last",
    ):
        # a health column scores the page's records: a few queries, whatever the page holds
        with django_assert_max_num_queries(30):
            assert member.get(path).status_code == 200, path
