"""The home page: my ties that need attention and why, accounts at risk, recent activity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kith.accounts.selectors import get_user
from kith.accounts.services import add_user, set_private
from kith.core import clock
from kith.testing import log, make_home, make_org, make_person, relate


def _days_ago(n: int) -> str:
    at = clock.now() - dt.timedelta(days=n)
    return at.replace(hour=12, minute=0, second=0, microsecond=0).isoformat()


@pytest.fixture
def world() -> dict[str, Any]:
    """Our Co with Mia (email member1@our.test, the first member client), Acme with Olga
    (a tie with Mia gone quiet) and Beta, whose CEO left ten days ago."""
    home = make_home()
    mia = make_person("Mia Member", email="member1@our.test", org=home)
    acme = make_org("Acme")
    olga = make_person("Olga Outside", email="olga@acme.test", org=acme)
    for n in (400, 380, 360, 340, 320):  # a tie every 20 days, then silence for 320 days
        log("call", mia, olga, at=_days_ago(n), subject=f"Check-in {n}")
    beta = make_org("Beta")
    boss = make_person("Bert Boss", email="bert@beta.test")
    since, until = clock.today() - dt.timedelta(days=700), clock.today() - dt.timedelta(days=10)
    relate(boss, "works_at", beta, since=since.isoformat(), until=until.isoformat(), role="CEO")
    log("meeting", mia, boss, at=_days_ago(30), subject="Farewell lunch", links=(beta,))
    return {"home": home, "mia": mia, "olga": olga, "acme": acme, "beta": beta, "boss": boss}


def test_my_ties_that_need_attention_with_reasons(member: Client, world: dict[str, Any]) -> None:
    html = member.get("/").content.decode()
    assert "Hello, Mia Member" in html
    assert "My relationships that need attention" in html
    attention = html.split('id="attention"')[1].split("</ul>\n")[0]
    assert "Olga Outside" in attention
    assert f'href="/records/{world["olga"].id}"' in attention
    assert "no two-way contact in 320 days; usual cadence is 20 days" in attention
    assert f'href="/records/{world["acme"].id}"' in attention  # where she works


def test_without_a_person_record_the_team_view(make_client: Callable[..., Client]) -> None:
    make_home()
    client = make_client("viewer")  # viewer1@our.test: no person has that email
    html = client.get("/").content.decode()
    assert "No person record has your email (viewer1@our.test)" in html
    assert "People who need attention across the team" in html
    assert "My relationships that need attention" not in html


def test_person_off_the_team_is_not_mine(member: Client) -> None:
    make_home()
    make_person("Mia Member", email="member1@our.test")  # no works_at to Our Co
    html = member.get("/").content.decode()
    assert "has your email but is not on our team" in html


def test_accounts_at_risk_say_why(member: Client, world: dict[str, Any]) -> None:
    html = member.get("/").content.decode()
    risk = html.split('id="accounts-at-risk"')[1].split("</section>")[0]
    assert "Beta" in risk and f'href="/records/{world["beta"].id}"' in risk
    assert "ceo Bert Boss left" in risk


def test_recent_activity_links_people_and_records(viewer: Client, world: dict[str, Any]) -> None:
    html = viewer.get("/").content.decode()
    activity = html.split('id="activity"')[1].split("</ul>")[0]
    assert "Farewell lunch" in activity
    assert activity.index("Farewell lunch") < activity.index("Check-in 320")  # newest first
    for rec in ("mia", "boss", "beta"):
        assert f'href="/records/{world[rec].id}"' in activity


def test_names_are_escaped(member: Client, world: dict[str, Any]) -> None:
    evil = make_person("<script>alert(1)</script>", email="evil@acme.test")
    log("email", world["mia"], evil, subject="<b>hi</b>", direction="in")
    html = member.get("/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html
    assert "<script>alert(1)" not in html and "<b>hi</b>" not in html


def test_private_records_stay_hidden(
    make_client: Callable[..., Client], world: dict[str, Any]
) -> None:
    member = make_client("member")  # member1@our.test is Mia
    add_user(email="owner@our.test", role="member", password="x" * 12)
    set_private(record=world["olga"], private=True, user=get_user("owner@our.test"))
    set_private(record=world["beta"], private=True, user=get_user("owner@our.test"))
    html = member.get("/").content.decode()
    assert "Olga Outside" not in html
    assert world["beta"].id not in html
    owner = Client()
    owner.force_login(get_user("owner@our.test"))
    assert "Olga Outside" in owner.get("/").content.decode()


def test_home_query_count(
    member: Client, world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    member.get("/")  # warm the score cache
    for i in range(30):
        make_person(f"Extra {i}", email=f"x{i}@acme.test", org=world["acme"])
        log("call", world["mia"], world["olga"], at=_days_ago(200 + i))
    # new data, no kept scores (never rescored here): the scores are computed again (a fixed
    # number of set-based queries, and one asking whether kept scores are current)
    with django_assert_max_num_queries(46):
        assert member.get("/").status_code == 200
    with django_assert_max_num_queries(25):  # unchanged data: scores from the cache
        assert member.get("/").status_code == 200


def test_home_is_read_only_and_needs_sign_in(viewer: Client) -> None:
    make_home()
    assert viewer.get("/").status_code == 200
    assert viewer.post("/").status_code == 405
    assert Client().get("/")["Location"].startswith("/login")
