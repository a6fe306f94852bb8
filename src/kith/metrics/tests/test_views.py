"""A saved view as a metric's scope: the sum or mean of its records' own values, privacy,
unknown names, and as-of days recomputed."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import pytest

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user
from kith.core.errors import NotFound, ValidationError
from kith.core.viewer import SYSTEM, Viewer
from kith.lists.models import SavedView
from kith.lists.selectors import member_ids
from kith.lists.services import save_view
from kith.metrics.selectors import measure, measure_many, show_view
from kith.records.models import Record
from kith.records.selectors import home_org
from kith.relationships.selectors import team_ids
from kith.relationships.services import relate
from kith.server.tests.conftest import make_caller
from kith.testing import log, make_home, make_org, make_person

DAY = dt.date(2026, 6, 15)


def _user(email: str, role: str = "member") -> Viewer:
    add_user(email=email, role=role, password="a long password 1")
    return viewer_of(get_user(email))


@pytest.fixture
def world(time_travel: Any, settings: Any) -> dict[str, Any]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    home = make_home()
    mia = make_person("Mia Chen", email="mia@our.test", org=home)
    tom = make_person("Tom Ray", email="tom@our.test", org=home)
    acme, zeta = make_org("Acme"), make_org("Zeta")
    make_org("Quiet Inc")
    lee = make_person("Lee Park", org=acme, role="CFO")
    ann = make_person("Ann Bell", org=acme, role="Champion")
    zed = make_person("Zed Ko", org=zeta, role="CEO")
    log("meeting", mia, lee, at="2026-05-01T10:00Z", outcome="demo_booked")
    log("call", mia, ann, at="2026-05-20T10:00Z")
    log("call", tom, zed, at="2026-06-01T10:00Z", outcome="next_step_agreed")
    log("meeting", tom, zed, lee, at="2026-06-10T10:00Z")  # with two of a person view
    jane = _user("jane@our.test")
    save_view(viewer=jane, type_key="organization", name="Accounts", query={})
    save_view(viewer=jane, type_key="person", name="Acme people", query={"org": ["Acme"]})
    return {"jane": jane, "mia": mia, "acme": acme, "zeta": zeta, "lee": lee, "ann": ann}


def _one_by_one(viewer: Viewer, key: str, view: str, params: dict[str, Any]) -> list[float]:
    saved = SavedView.objects.get(user_id=viewer.user_id, name=view)
    ours = {*team_ids(DAY), getattr(home_org(), "id", "")}
    records = Record.objects.filter(pk__in=member_ids(viewer, saved)).exclude(pk__in=ours)
    values = [measure(viewer, key, r, as_of=DAY, params=params).value for r in records]
    return [v for v in values if v is not None]


@pytest.mark.parametrize(
    ("key", "view", "params", "how"),
    [
        ("interactions.two_way", "Accounts", {}, "sum"),
        ("interactions.two_way", "Acme people", {"kind": "meeting"}, "sum"),
        ("outcomes", "Accounts", {}, "sum"),
        ("people.engaged", "Accounts", {}, "sum"),
        ("team.in_touch", "Accounts", {}, "sum"),
        ("health", "Accounts", {}, "mean"),
        ("health", "Acme people", {}, "mean"),
        ("exec.days_since_meeting", "Accounts", {}, "mean"),
    ],
)
def test_a_views_metric_is_its_records_one_by_one(
    world: dict[str, Any], key: str, view: str, params: dict[str, Any], how: str
) -> None:
    jane = world["jane"]
    got = show_view(jane, key, view, params=params)
    each = _one_by_one(jane, key, view, params)
    want = sum(each) if how == "sum" else round(sum(each) / len(each), 1)
    assert each and got["value"] == pytest.approx(want), (key, got, each)
    assert got["reasons"][0].startswith(f"the {how} ")
    assert got["scope"]["type"] == "view" and got["scope"]["name"] == view


def test_the_sums_read_the_data(world: dict[str, Any]) -> None:
    jane = world["jane"]
    v = show_view(jane, "interactions.two_way", "Accounts")
    assert v["value"] == 5 and v["scope"]["records"] == 3 and v["scope"]["of"] == "organization"
    assert "1 record of our own left out" in v["reasons"]  # our organisation
    assert show_view(jane, "outcomes", "Accounts")["value"] == 2
    people = show_view(jane, "interactions.two_way", "Acme people", params={"kind": "meeting"})
    assert people["value"] == 2 and people["scope"]["records"] == 2
    assert set(people["evidence"]) == set(
        show_view(jane, "interactions.two_way", "Accounts", params={"kind": "meeting"})["evidence"]
    )


def test_a_private_record_in_the_view_counts_only_for_who_may_see_it(
    world: dict[str, Any],
) -> None:
    owner_user = _user("owner@our.test")
    owner = get_user("owner@our.test")
    other = world["jane"]
    secret = add_owned_record(user=owner, private=True, type_key="organization", name="Hush Co")
    spy = make_person("Sue Spy", org=secret, role="CEO")
    log("meeting", world["mia"], spy, at="2026-06-12T10:00Z", outcome="demo_booked")
    save_view(viewer=owner_user, type_key="organization", name="Accounts", query={})
    mine = show_view(owner_user, "interactions.two_way", "Accounts")
    theirs = show_view(other, "interactions.two_way", "Accounts")
    assert (mine["value"], mine["scope"]["records"]) == (6, 4)
    assert (theirs["value"], theirs["scope"]["records"]) == (5, 3)
    for key in ("interactions.two_way", "outcomes", "people.engaged", "health"):
        said = json.dumps(show_view(other, key, "Accounts"))
        assert "Hush" not in said and secret.id not in said and spy.id not in said, key
    # a private person hidden from the viewer is not counted at a public account either
    relate(
        a=add_owned_record(user=owner, private=True, type_key="person", name="Pat Hid").id,
        type_name="works_at",
        b=world["acme"].id,
        role="CTO",
    )
    assert show_view(owner_user, "people.engaged", "Accounts")["n"] == (
        show_view(other, "people.engaged", "Accounts")["n"] + 2
    )
    assert show_view(owner_user, "relationships.count", "Accounts")["value"] == (
        show_view(other, "relationships.count", "Accounts")["value"] + 2
    )


def test_unknown_view_and_meaningless_metric_are_one_line(world: dict[str, Any], cli: Any) -> None:
    jane = world["jane"]
    with pytest.raises(NotFound, match=r"^view: no saved view 'Nope'$"):
        show_view(jane, "health", "Nope")
    other = _user("other@our.test")
    with pytest.raises(NotFound, match="view: no saved view 'Accounts'"):
        show_view(other, "health", "Accounts")  # another user's view is not theirs
    with pytest.raises(ValidationError, match=r"^view: roles.filled has no meaning for a saved"):
        show_view(jane, "roles.filled", "Accounts")
    with pytest.raises(ValidationError, match=r"view: people.engaged is measured for organi"):
        show_view(jane, "people.engaged", "Acme people")
    code, _, err = cli("metric", "show", "health", "--view", "Nope")
    assert code == 1 and err.strip() == "error: view: no saved view 'Nope'"
    code, _, err = cli("metric", "show", "health", "Acme", "--view", "Accounts")
    assert code == 1 and "ref: give a record or --view NAME" in err and "Traceback" not in err
    before = SavedView.objects.count()
    caller = make_caller("viewer@our.test", "viewer")
    status, body = caller.call("GET", "/metrics/health/views/Nope", None)
    assert status == 404 and body["field"] == "view" and "'Nope'" in body["message"]
    assert SavedView.objects.count() == before


def test_cli_and_api_give_the_same_answer(world: dict[str, Any], cli: Any) -> None:
    want = show_view(world["jane"], "interactions.two_way", "Accounts", window="30d")
    code, out, _ = cli(
        "metric",
        "show",
        "interactions.two_way",
        "--view",
        "Accounts",
        "--user",
        "jane@our.test",
        "--window",
        "30d",
        "--json",
    )
    assert code == 0 and json.loads(out) == want
    code, out, _ = cli("metric", "show", "interactions.two_way", "--view", "Accounts")
    assert code == 0 and "for the view 'Accounts' (3 organization records)" in out
    assert "the sum over the 3 organization records" in out
    caller = make_caller("jane2@our.test", "member")
    save_view(
        viewer=viewer_of(get_user("jane2@our.test")),
        type_key="organization",
        name="Accounts",
        query={},
    )
    status, body = caller.call(
        "GET", "/metrics/interactions.two_way/views/Accounts", None, window="30d"
    )
    assert status == 200 and body == {**want, "scope": {**want["scope"], "id": body["scope"]["id"]}}


def test_a_view_as_of_a_past_day_equals_what_it_said_that_day(time_travel: Any) -> None:
    """Property: live along months of changes, read the view's metrics each week; then
    recompute every one of those days afterwards and compare."""
    rnd = random.Random(7)
    time_travel.to("2026-01-05T12:00:00Z")
    home = make_home()
    team = [make_person(f"Member {i}", org=home) for i in range(3)]
    jane = _user("jane@our.test")
    save_view(viewer=jane, type_key="organization", name="All", query={})
    people: list[Any] = []
    said: list[tuple[str, str, Any, int, list[str], list[str]]] = []
    for week in range(16):
        if week % 3 == 0:
            org = make_org(f"Org {week}")
            people += [make_person(f"P{week}.{i}", org=org, role="CFO") for i in range(2)]
        for _ in range(rnd.randint(0, 4)):
            at = time_travel.now() - dt.timedelta(hours=rnd.randint(1, 140))
            log(
                rnd.choice(["meeting", "call"]),
                rnd.choice(team),
                rnd.choice(people),
                at=at.isoformat(),
                outcome=rnd.choice(["", "demo_booked", "no_decision"]),
            )
        for key in ("interactions.two_way", "outcomes", "health", "people.engaged"):
            v = show_view(jane, key, "All", window="30d")
            said.append((v["as_of"], key, v["value"], v["n"], v["reasons"], v["evidence"]))
        time_travel.advance(days=7)
    assert len({s[2] for s in said if s[1] == "interactions.two_way"}) > 3
    for day, key, value, n, reasons, evidence in said:
        again = show_view(jane, key, "All", window="30d", as_of=day)
        assert (again["value"], again["n"], again["reasons"], again["evidence"]) == (
            value,
            n,
            reasons,
            evidence,
        ), (day, key)


def test_outcome_metrics_many_at_once_equal_one_at_a_time(world: dict[str, Any]) -> None:
    """The outcome metrics' batched form (a view's read) gives what each record's own gives."""
    log("meeting", world["mia"], links=(world["zeta"],), at="2026-06-11T10:00Z", outcome="go_live")
    records = [world["acme"], world["zeta"], world["lee"], world["ann"], make_org("Empty Co")]
    for key, params in [
        ("outcomes", {}),
        ("outcomes", {"polarity": "neutral"}),
        ("outcomes", {"outcome": "demo_booked,go_live"}),
        ("value.events", {}),
    ]:
        many = measure_many(SYSTEM, key, records, as_of=DAY, params=params)
        one = [measure(SYSTEM, key, r, as_of=DAY, params=params) for r in records]
        assert many == one, key
    got = measure_many(SYSTEM, "outcomes", records, as_of=DAY)
    assert [r.value for r in got] == [1.0, 2.0, 1.0, 0.0, 0.0]
    assert (
        got[1].reasons[0]
        == "2 interactions with a positive outcome at Zeta in the 90 days to 2026-06-15"
    )
