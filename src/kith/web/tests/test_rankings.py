"""The full best and at-risk pages: filters, sorting, paging, CSV export, privacy, bad input."""

from __future__ import annotations

import csv
import datetime as dt
import html as html_text
import io
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from kith.records.models import Record
from kith.relationships.models import Relationship
from kith.relationships.services import end_relationship
from kith.testing import log, make_home, make_org, make_person


def body(resp: Any) -> str:
    return html_text.unescape(resp.content.decode())


def _csv(resp: Any) -> list[dict[str, str]]:
    text = b"".join(resp.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def world(time_travel: Any) -> dict[str, Any]:
    """Three accounts met weekly by Sam until their meetings stop at different times; Hush Ltd
    is an owner's private account; Acme's CEO left (a risk event)."""
    time_travel.to("2026-01-01T09:00:00Z")
    home = make_home()
    sam = make_person("Sam Seller", org=home, since="2020-01-01")
    made = {}
    for name, weeks in (("Acme", 20), ("Beta Co", 12), ("Gamma", 6), ("Hush Ltd", 20)):
        org = make_org(name)
        boss = make_person(f"{name} Boss", org=org, role="CEO", since="2020-01-01")
        for i in range(weeks):
            day = dt.date(2026, 1, 5) + dt.timedelta(days=7 * i)
            log("meeting", sam, boss, at=f"{day.isoformat()}T10:00:00Z")
        made[name] = (org, boss)
    time_travel.to("2026-06-15T12:00:00Z")
    acme, boss = made["Acme"]
    rel = Relationship.objects.get(from_record=boss, to_record=acme)
    end_relationship(rel_id=rel.id, on="2026-06-01")
    return {"sam": sam, **{k: v[0] for k, v in made.items()}, "hush_boss": made["Hush Ltd"][1]}


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/records/[^"]+">([^<]+)</a></span></td>', html)


def test_best_page_ranks_filters_sorts_and_pages(member: Client, world: dict[str, Any]) -> None:
    html = body(member.get("/best"))
    names = _names(html)
    assert names[:2] == ["Hush Ltd Boss", "Hush Ltd"] or "Beta Co" in names
    assert "Sam Seller" not in names  # our team is not ranked
    orgs = _names(body(member.get("/best", {"type": "organization"})))
    assert orgs and all(not n.endswith("Boss") for n in orgs)
    by_name = _names(body(member.get("/best", {"type": "organization", "sort": "name"})))
    assert by_name == sorted(by_name, key=str.casefold)
    desc = _names(body(member.get("/best", {"type": "organization", "sort": "-name"})))
    assert desc == by_name[::-1]
    found = _names(body(member.get("/best", {"q": "beta"})))
    assert set(found) == {"Beta Co", "Beta Co Boss"}
    page = body(member.get("/best", {"size": "25"}))
    assert "rows" in page and 'aria-sort="ascending"' in page  # ranked order shown
    # a band filter keeps only that band
    html = body(member.get("/best", {"band": "cold"}))
    assert "band-good" not in html.split("<tbody>")[1]


def test_at_risk_page_says_why_and_exports_csv(member: Client, world: dict[str, Any]) -> None:
    html = body(member.get("/at-risk", {"type": "organization"}))
    assert "Acme" in _names(html)
    assert "ceo Acme Boss left" in html
    resp = member.get("/at-risk", {"type": "organization", "format": "csv"})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    assert "attachment;" in resp["Content-Disposition"]
    rows = _csv(resp)
    acme = next(r for r in rows if r["name"] == "Acme")
    assert acme["id"] == world["Acme"].id and "ceo Acme Boss left" in acme["reasons"]
    assert set(rows[0]) >= {"rank", "health", "band", "change", "newest_event"}
    # the CSV holds what the page lists, in the same order
    assert [r["name"] for r in rows] == _names(html)


def test_rankings_leave_private_records_out(world: dict[str, Any], make_client: Any) -> None:
    owner = make_client("member")
    other = make_client("member")
    user = get_user_model().objects.get(username="member1@our.test")
    Record.objects.filter(pk__in=[world["Hush Ltd"].pk, world["hush_boss"].pk]).update(
        private=True, owner=user
    )
    for url in ("/best", "/at-risk"):
        html = body(other.get(url))
        assert "Hush" not in html, url
        rows = _csv(other.get(url, {"format": "csv"}))
        assert not any("Hush" in r["name"] for r in rows), url
    assert "Hush Ltd" in body(owner.get("/best"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"type": "vendor"}, "type: 'vendor' is not person or organization"),
        ({"band": "great"}, "band: 'great' is not one of strong, good, fair, weak, cold"),
        ({"sort": "age"}, "sort: 'age' is not one of rank, name, health, value"),
        ({"page": "x"}, "page: 'x' is not a number"),
        ({"page": "99"}, "page: 99 is outside 1..1"),
        ({"size": "7"}, "size: 7 is not one of 25, 50, 100"),
        ({"as_of": "soon"}, "As of: 'soon' is not a date"),
        ({"format": "pdf"}, "format: 'pdf' is not csv"),
    ],
)
def test_bad_input_is_one_clear_line(
    member: Client, world: dict[str, Any], params: dict[str, str], message: str
) -> None:
    resp = member.get("/best", params)
    assert resp.status_code == 400
    assert message in body(resp)
    assert "Traceback" not in body(resp)
