"""Global search: quick results for the header (htmx) and the full results page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from kith.accounts.selectors import get_user
from kith.accounts.services import add_owned_record
from kith.records.services import add_person, delete_record
from kith.testing import make_home, make_org, make_person

HX = {"HTTP_HX_REQUEST": "true"}


def _data() -> dict[str, Any]:
    make_home()
    acme = make_org("Acme Robotics", domains=("acme-robotics.test",))
    jane = make_person("Jane Doe", email="jane@acme-robotics.test", org=acme)
    janet = add_person(name="Janet Moss", phones=["+1 202 555 0147"])
    make_person("Bob Jones", email="bob@else.test")
    return {"acme": acme, "jane": jane, "janet": janet}


def test_quick_results_are_links_with_type_and_org(member: Client) -> None:
    data = _data()
    resp = member.get("/search", {"q": "jan"}, **HX)
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "<html" not in html  # a fragment for the header's results box
    assert html.index("Jane Doe") < html.index("Janet Moss")
    assert f'<a href="/records/{data["jane"].id}"' in html
    assert "Person" in html and "Acme Robotics" in html  # type, then where they work
    assert "Bob Jones" not in html


def test_search_by_email_phone_and_domain(member: Client) -> None:
    data = _data()
    by_email = member.get("/search", {"q": "jane@acme"}, **HX).content.decode()
    assert data["jane"].id in by_email and data["janet"].id not in by_email
    by_phone = member.get("/search", {"q": "(202) 555-0147"}, **HX).content.decode()
    assert data["janet"].id in by_phone and data["jane"].id not in by_phone
    by_domain = member.get("/search", {"q": "acme-robotics.test"}, **HX).content.decode()
    assert data["acme"].id in by_domain


def test_empty_query_empties_the_box_and_misses_say_so(member: Client) -> None:
    _data()
    assert member.get("/search", {"q": "  "}, **HX).content == b""
    assert "No record matches “zzz”" in member.get("/search", {"q": "zzz"}, **HX).content.decode()


def test_full_results_page(viewer: Client) -> None:
    data = _data()
    resp = viewer.get("/search", {"q": "acme"})
    html = resp.content.decode()
    assert resp.status_code == 200 and "<html" in html
    assert 'id="search-table"' in html
    for rec in ("acme", "jane"):
        assert f'href="/records/{data[rec].id}"' in html
    assert 'value="acme"' in html  # the query stays in the box
    assert "Search by name, email" in viewer.get("/search").content.decode()


def test_search_is_escaped(member: Client) -> None:
    make_home()
    make_person("<script>alert(1)</script> Evil")
    for headers in (HX, {}):
        html = member.get("/search", {"q": "<script>"}, **headers).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Evil" in html
        assert "<script>alert(1)" not in html


def test_private_records_are_not_found(make_client: Callable[..., Client]) -> None:
    make_home()
    owner = make_client("member")
    other = make_client("member")
    add_owned_record(
        user=get_user("member1@our.test"), private=True, type_key="person", name="Secret Sam"
    )
    assert "Secret Sam" in owner.get("/search", {"q": "secret"}, **HX).content.decode()
    for headers in (HX, {}):
        assert "Secret Sam" not in other.get("/search", {"q": "secret"}, **headers).content.decode()
    assert "Secret Sam" in make_client("admin").get("/search", {"q": "secret"}).content.decode()


def test_deleted_records_are_not_found(member: Client) -> None:
    data = _data()
    delete_record(ref=data["jane"].id)
    assert "Jane Doe" not in member.get("/search", {"q": "jane"}, **HX).content.decode()


def test_too_long_a_query_is_a_clear_error(member: Client) -> None:
    make_home()
    resp = member.get("/search", {"q": "x" * 400})
    assert resp.status_code == 400 and "q: longer than 300 characters" in resp.content.decode()
    quick = member.get("/search", {"q": "x" * 400}, **HX)
    assert quick.status_code == 200 and "longer than 300" in quick.content.decode()


def test_search_query_count(member: Client, django_assert_max_num_queries: Any) -> None:
    _data()
    for i in range(30):
        make_person(f"Jan Extra {i}", email=f"jan{i}@x.test")
    with django_assert_max_num_queries(10):
        assert member.get("/search", {"q": "jan"}, **HX).status_code == 200
    with django_assert_max_num_queries(14):
        assert member.get("/search", {"q": "jan"}).status_code == 200
