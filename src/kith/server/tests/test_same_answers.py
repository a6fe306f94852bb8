"""The CLI, the API and the web give the same answers for the use cases they share.

Search (a phone typed any way, a name, an email, a domain), history paging and the
participant limit each live once in their app; these tests ask all three interfaces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kith.accounts.selectors import get_user
from kith.accounts.services import add_owned_record, add_user
from kith.core.limits import MAX_PARTICIPANTS
from kith.interactions.models import Interaction
from kith.records.models import Record
from kith.records.services import add_organization, add_person, update_record
from kith.server.tests.conftest import Caller, make_caller
from kith.testing import log, make_person, relate
from kith.web.views import records as record_views

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def api() -> Caller:
    return make_caller("member@our.test", "member")


@pytest.fixture
def web(api: Caller) -> Client:
    client = Client()
    client.force_login(get_user("member@our.test"))
    return client


def _cli_json(cli: Cli, *args: str) -> Any:
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def _cli_search(cli: Cli, text: str) -> set[str]:
    return {r["id"] for r in _cli_json(cli, "list", "--search", text)}


def _api_search(api: Caller, text: str) -> set[str]:
    code, page = api.call("GET", "/records", q=text)
    assert code == 200, page
    return {r["id"] for r in page["items"]}


def _web_search(web: Client, text: str) -> set[str]:
    resp = web.get("/search", {"q": text})
    assert resp.status_code == 200
    return set(re.findall(r'href="/records/([A-Za-z0-9_]+)"', resp.content.decode()))


@pytest.mark.parametrize(
    "text", ["415 555", "(415) 555-01", "+1 415 555 0199", "4155550199", "Pat Phone", "pat@"]
)
def test_search_finds_a_phone_typed_any_way_in_all_three(
    cli: Cli, api: Caller, web: Client, text: str
) -> None:
    pat = add_person(name="Pat Phone", emails=["pat@phone.test"], phones=["+1 (415) 555-0199"])
    make_person("Quinn Other", email="quinn@other.test")
    assert _cli_search(cli, text) == {pat.id}
    assert _api_search(api, text) == {pat.id}
    assert _web_search(web, text) == {pat.id}


def test_search_by_domain_and_privacy_agree(cli: Cli, api: Caller, web: Client) -> None:
    acme = add_organization(name="Acme Corp", domains=["acme.test"])
    add_user(email="other@our.test", role="member", password="correct horse battery")
    secret = add_owned_record(
        user=get_user("other@our.test"),
        private=True,
        type_key="person",
        name="Secret Sam",
        phones=["+1 (415) 555-0123"],
    )
    assert _cli_search(cli, "acme.test") == _api_search(api, "acme.test") == {acme.id}
    assert _web_search(web, "acme.test") == {acme.id}
    # the CLI acts for the whole workspace; a member never finds another's private record
    assert _cli_search(cli, "415 555") == {secret.id}
    assert _api_search(api, "415 555") == set() == _web_search(web, "415 555")


def test_the_ranked_search_is_the_same_in_all_three(cli: Cli, api: Caller, web: Client) -> None:
    margaret = make_person("Margaret Hale", email="mh@north.test")
    mark = make_person("Mark Ode")
    omar = make_person("Omar Nasri")
    log("call", omar, subject="Renewal pricing")
    for text, expected in [
        ("mar", [margaret.id, mark.id, omar.id]),  # starts two names, is inside one
        ("margret", [margaret.id]),  # a typo away
        ("renewal", [omar.id]),  # an interaction's subject
        ("north.test", [margaret.id]),
    ]:
        code, out, err = cli("search", text, "--json")
        assert code == 0, err
        by_cli = [r["id"] for r in json.loads(out)]
        code, found = api.call("GET", "/search", q=text)
        assert code == 200, found
        by_api = [r["id"] for r in found]
        html = web.get("/search", {"q": text}).content.decode()
        by_web = list(dict.fromkeys(re.findall(r'href="/records/([A-Za-z0-9_]+)"', html)))
        assert by_cli == by_api == by_web == expected, text


def _api_history(api: Caller, rid: str, limit: int) -> tuple[list[int], int]:
    ids: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        query: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        code, page = api.call("GET", f"/records/{rid}/history", **query)
        assert code == 200, page
        pages += 1
        ids += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids, pages


def _cli_history(cli: Cli, rid: str, limit: int) -> tuple[list[int], int]:
    ids: list[int] = []
    after: list[str] = []
    pages = 0
    while True:
        code, out, err = cli("history", rid, "--limit", str(limit), *after, "--json")
        assert code == 0, err
        pages += 1
        ids += [c["id"] for c in json.loads(out)]
        more = re.search(r"--after (\S+)", err)
        if not more:
            return ids, pages
        after = ["--after", more.group(1)]


def _web_history(web: Client, rid: str) -> tuple[list[str], int]:
    rows: list[str] = []
    url: str | None = f"/records/{rid}/history"
    pages = 0
    while url:
        html = web.get(url).content.decode()
        pages += 1
        tbody = html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""
        rows += re.findall(r"<tr>", tbody)
        older = re.search(r'<a href="([^"]+)">Older</a>', html)
        url = older.group(1).replace("&amp;", "&") if older else None
    return rows, pages


def test_history_is_paged_alike_in_all_three(
    cli: Cli, api: Caller, web: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    jane = make_person("Jane Doe", email="jane@acme.test")
    for i in range(6):
        update_record(ref=jane.id, values={"title": f"Title {i}"})
    relate(jane, "knows", make_person("Bob Public"))
    add_user(email="other@our.test", role="member", password="correct horse battery")
    hidden = add_owned_record(
        user=get_user("other@our.test"), private=True, type_key="person", name="Secret Sam"
    )
    relate(jane, "knows", Record.objects.get(pk=hidden.id))
    monkeypatch.setattr(record_views, "HISTORY_PAGE", 3)

    api_ids, api_pages = _api_history(api, jane.id, 3)
    web_rows, web_pages = _web_history(web, jane.id)
    cli_ids, cli_pages = _cli_history(cli, jane.id, 3)
    # create + 6 edits + the public relationship; the private one is the CLI's only
    assert len(api_ids) == len(web_rows) == 8 and api_pages == web_pages == 3
    assert api_ids == sorted(api_ids) and len(set(api_ids)) == 8
    assert set(api_ids) < set(cli_ids) and len(cli_ids) == 9 and cli_pages == 3


def _refs(people: list[Record], count: int) -> list[str]:
    return [people[i % len(people)].id for i in range(count)]


def test_participant_limit_is_one_number_in_all_three(cli: Cli, api: Caller, web: Client) -> None:
    people = [make_person(f"Guest {i}", email=f"g{i}@x.test") for i in range(5)]
    host = make_person("Host Person", email="host@x.test")
    before = Interaction.objects.count()

    # the limit itself is accepted everywhere ...
    code, _out, err = cli(
        "log", "meeting", *[a for r in _refs(people, MAX_PARTICIPANTS) for a in ("--with", r)]
    )
    assert code == 0, err
    code, view = api.call(
        "POST",
        "/interactions",
        {"kind": "meeting", "participants": [{"ref": r} for r in _refs(people, MAX_PARTICIPANTS)]},
    )
    assert code == 201, view
    resp = web.post(
        f"/records/{host.id}/interactions",
        {"kind": "meeting", "with_more": "\n".join(_refs(people, MAX_PARTICIPANTS - 1))},
        HTTP_HX_REQUEST="true",
    )
    assert resp.status_code == 201, resp.content.decode()[:500]
    assert Interaction.objects.count() == before + 3

    # ... and one more is refused everywhere, with the same message, and nothing is logged
    message = f"an interaction has at most {MAX_PARTICIPANTS}"
    over = _refs(people, MAX_PARTICIPANTS + 1)
    code, _out, err = cli("log", "meeting", *[a for r in over for a in ("--with", r)])
    assert code == 1 and message in err
    code, error = api.call(
        "POST", "/interactions", {"kind": "meeting", "participants": [{"ref": r} for r in over]}
    )
    assert code == 422 and message in error["message"] and error["field"] == "with"
    resp = web.post(
        f"/records/{host.id}/interactions",
        {"kind": "meeting", "with_more": "\n".join(over[:-1])},
        HTTP_HX_REQUEST="true",
    )
    assert resp.status_code == 422 and message in resp.content.decode()
    assert Interaction.objects.count() == before + 3
