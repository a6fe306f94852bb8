"""The list engine: the API serves the web's lists (same rows for the same parameters),
saved views per user, and private records left out in the query."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user, create_token
from kith.core import clock
from kith.core.errors import NotFound
from kith.core.viewer import SYSTEM
from kith.lists.selectors import list_records, parse_list_query
from kith.lists.services import delete_view, save_view
from kith.records.services import update_record
from kith.testing import log, make_home, make_org, make_person

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_RATE_LIMIT", "0")


class Both:
    """One member, signed in to the web and holding an API token."""

    def __init__(self, email: str = "member@our.test") -> None:
        add_user(email=email, role="member", password=PASSWORD)
        _, self.token = create_token(email=email)
        self.user = get_user(email)
        self.web = Client()
        self.web.force_login(self.user)

    def api(self, method: str, path: str, body: Any = None, **query: Any) -> tuple[int, Any]:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        if method == "GET":
            resp = Client().get(f"/api/v1{path}", query, **headers)
        else:
            resp = Client().generic(
                method, f"/api/v1{path}", json.dumps(body) if body is not None else "",
                content_type="application/json", **headers,
            )  # fmt: skip
        return resp.status_code, (json.loads(resp.content) if resp.content else None)

    def web_rows(self, path: str, query: dict[str, Any]) -> tuple[list[str], int]:
        html = self.web.get(path, query).content.decode()
        body = html.split('id="list-table"')[1].split("</table>")[0].split("<tbody>")[1]
        ids = [part.split('href="/records/')[1].split('"')[0] for part in body.split("<tr")[1:]]
        total = int(html.split('id="list-count">')[1].split(" ")[0])
        return ids, total


def _data() -> dict[str, Any]:
    home = make_home()
    mia = make_person("Mia Member", email="mia@our.test", org=home)
    acme, beta = make_org("Acme"), make_org("Beta")
    ann = make_person("Ann Able", email="ann@acme.test", org=acme, title="CTO")
    bob = make_person("Bob Baker", email="bob@acme.test", org=acme, title="Engineer")
    zed = make_person("Zed Zulu", org=beta, title="Buyer")
    update_record(ref=zed.id, values={"phone": "+1 (415) 555-0199"})
    now = clock.now()
    log("meeting", mia, zed, at=now - dt.timedelta(days=2))
    log("call", mia, zed, at=now - dt.timedelta(days=20))
    log("call", mia, ann, at=now - dt.timedelta(days=300))
    return {"acme": acme, "ann": ann, "bob": bob, "zed": zed}


QUERIES = [
    {},
    {"q": "acme"},
    {"q": "415 555"},
    {"org": "Acme"},
    {"f.title": "eng"},
    {"band": "cold"},
    {"sort": "-health"},
    {"sort": "-last"},
    {"sort": "-name", "cols": ["email", "health"]},
    {"sort": "created", "deleted": "1"},
]


def test_the_api_and_the_web_list_the_same_rows() -> None:
    data = _data()
    me = Both()
    for query in QUERIES:
        code, page = me.api("GET", "/lists/person", **query)
        assert code == 200, (query, page)
        ids, total = me.web_rows("/people", query)
        assert [r["id"] for r in page["rows"]] == ids, query
        assert page["total"] == total, query
    _, page = me.api("GET", "/lists/person", org="Acme", cols=["email", "org"])
    assert [r["cells"]["email"] for r in page["rows"]] == ["ann@acme.test", "bob@acme.test"]
    assert page["rows"][0]["cells"]["org"] == [{"id": data["acme"].id, "name": "Acme"}]
    assert [c["key"] for c in page["columns"]] == ["email", "org"]
    assert page["query"] == "org=Acme&cols=email&cols=org"
    _, orgs = me.api("GET", "/lists/organization", sort="-name")
    assert [r["id"] for r in orgs["rows"]] == me.web_rows("/orgs", {"sort": "-name"})[0]


def test_bad_parameters_are_refused_alike() -> None:
    _data()
    me = Both()
    for query, field in (({"sort": "bogus"}, "sort"), ({"f.nope": "1"}, "f.nope")):
        code, err = me.api("GET", "/lists/person", **query)
        assert code in (400, 422) and err["field"] == field, err
        assert me.web.get("/people", query).status_code == 400
    assert me.api("GET", "/lists/nope")[0] == 404


def test_a_private_organisation_is_as_unknown_as_a_missing_one() -> None:
    make_home()
    owner, other = Both("owner@our.test"), Both("other@our.test")
    org = add_owned_record(user=owner.user, private=True, type_key="organization", name="Hush")
    make_person("Pat Public", email="pat@hush.test", org=org)
    who = viewer_of(other.user)
    _, errors, _ = parse_list_query(who, "person", {"org": ["Hush"]})
    _, missing, _ = parse_list_query(who, "person", {"org": ["Nowhere"]})
    assert errors["org"] == missing["org"].replace("Nowhere", "Hush")
    code, err = other.api("GET", "/lists/person", org="Hush")
    code_missing, err_missing = other.api("GET", "/lists/person", org="Nowhere")
    assert code == code_missing and err["message"] == err_missing["message"].replace(
        "Nowhere", "Hush"
    )
    assert "Pat Public" not in json.dumps(err)
    assert list_records(viewer_of(owner.user), "person", {"org": ["Hush"]})["total"] == 1


def test_private_records_are_left_out_of_every_interface() -> None:
    make_home()
    owner, other = Both("owner@our.test"), Both("other@our.test")
    add_owned_record(user=owner.user, private=True, type_key="person", name="Secret Sam")
    make_person("Open Olga")
    _, page = other.api("GET", "/lists/person")
    assert [r["name"] for r in page["rows"]] == ["Open Olga"] and page["total"] == 1
    assert list_records(SYSTEM, "person", {})["total"] == 2
    assert list_records(viewer_of(owner.user), "person", {})["total"] == 2


def test_saved_views_through_the_api_are_the_web_ones() -> None:
    _data()
    me, other = Both(), Both("other@our.test")
    code, view = me.api(
        "POST", "/lists/person/views", {"name": " Acme  CTOs ", "params": {"org": ["Acme"]}}
    )
    assert code == 201 and view["name"] == "Acme CTOs" and view["query"] == "org=Acme"
    assert "Acme CTOs" in me.web.get("/people").content.decode()
    assert other.api("GET", "/lists/person/views") == (200, [])
    code, err = me.api("POST", "/lists/person/views", {"name": "X", "params": {"sort": ["x"]}})
    assert code in (400, 422) and err["field"] == "sort"
    assert other.api("DELETE", f"/lists/views/{view['id']}")[0] == 404
    assert me.api("DELETE", f"/lists/views/{view['id']}")[0] == 204
    assert me.api("GET", "/lists/person/views") == (200, [])


def test_saved_views_belong_to_users_and_admins_may_remove_them() -> None:
    me, other = Both(), Both("other@our.test")
    view = save_view(viewer=viewer_of(me.user), type_key="person", name="Mine", query={})
    with pytest.raises(NotFound):
        delete_view(viewer=viewer_of(other.user), view_id=view.id)
    assert delete_view(viewer=viewer_of(me.user), view_id=view.id) == "person"
    view = save_view(viewer=viewer_of(me.user), type_key="person", name="Mine", query={})
    assert delete_view(viewer=SYSTEM, view_id=view.id) == "person"  # an admin's clean-up
    with pytest.raises(NotFound):
        delete_view(viewer=SYSTEM, view_id=view.id)
