"""The metric catalogue on real data: values, reasons, evidence, privacy, as-of."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import pytest

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user
from kith.core.errors import NotFound, ValidationError
from kith.core.viewer import SYSTEM
from kith.metrics.selectors import list_metrics, measure, measure_many, parse_window, show
from kith.records.services import add_field, update_record
from kith.relationships.models import Relationship
from kith.relationships.services import add_person_at, end_relationship, relate
from kith.testing import log, make_home, make_org, make_person


@pytest.fixture
def world(time_travel: Any) -> dict[str, Any]:
    home = make_home()
    mia = make_person("Mia Chen", email="mia@our.test", org=home)
    tom = make_person("Tom Ray", email="tom@our.test", org=home)
    acme = make_org("Acme")
    lee = make_person("Lee Park", org=acme, role="CFO")
    ann = make_person("Ann Bell", org=acme, role="Champion")
    bob = make_person("Bob Stone", org=acme, role="Engineer")
    log("meeting", mia, lee, at="2026-05-01T10:00Z")
    log("call", mia, ann, at="2026-05-20T10:00Z")
    log("call", tom, ann, at="2026-06-01T10:00Z")
    log("email", tom, bob, at="2026-06-02T10:00Z", direction="out")  # one-way: not counted
    return {"home": home, "mia": mia, "tom": tom, "acme": acme, "lee": lee, "ann": ann, "bob": bob}


def test_catalogue_lists_the_metrics() -> None:
    keys = {m["key"] for m in list_metrics()}
    assert keys >= {
        "health",
        "people.engaged",
        "team.in_touch",
        "interactions.two_way",
        "exec.days_since_meeting",
        "relationships.count",
        "field.number",
        "records.matching",
    }


def test_two_way_interactions_by_kind(world: dict[str, Any]) -> None:
    v = show(SYSTEM, "interactions.two_way", "Acme", window="90d")
    assert v["value"] == 3 and v["n"] == 3 and v["unit"] == "interactions"
    assert "1 meeting" in v["reasons"][1] and "2 calls" in v["reasons"][1]
    calls = show(SYSTEM, "interactions.two_way", "Acme", params={"kind": "call"})
    assert calls["value"] == 2
    short = show(SYSTEM, "interactions.two_way", "Acme", window="30d")
    assert short["value"] == 2 and short["window_from"] == "2026-05-17"


def test_engaged_in_touch_and_health(world: dict[str, Any]) -> None:
    engaged = show(SYSTEM, "people.engaged", "Acme")
    assert engaged["value"] == 2 and engaged["n"] == 3
    assert set(engaged["evidence"]) == {world["lee"].id, world["ann"].id}
    touch = show(SYSTEM, "team.in_touch", "Acme")
    assert touch["value"] == 2 and set(touch["evidence"]) == {world["mia"].id, world["tom"].id}
    health = show(SYSTEM, "health", "Acme")
    assert 0 < health["value"] <= 100 and health["reasons"]
    person = show(SYSTEM, "health", "Lee Park")
    assert person["value"] > 0 and person["evidence"] == [world["mia"].id]
    with pytest.raises(ValidationError, match=r"ref: people\.engaged is measured for organization"):
        show(SYSTEM, "people.engaged", "Lee Park")
    with pytest.raises(ValidationError, match="our team"):
        show(SYSTEM, "health", "Mia Chen")


def test_days_since_executive_meeting(world: dict[str, Any]) -> None:
    v = show(SYSTEM, "exec.days_since_meeting", "Acme")
    assert v["value"] == 45 and v["n"] == 1 and v["unit"] == "days"  # 2026-05-01 -> 06-15
    assert "2026-05-01" in v["reasons"][0]
    before = show(SYSTEM, "exec.days_since_meeting", "Acme", as_of="2026-04-30")
    assert before["value"] is None and "no meeting with an executive" in before["reasons"][0]
    none = show(SYSTEM, "exec.days_since_meeting", "Acme", params={"roles": "ceo"})
    assert none["value"] is None and none["n"] == 0


def test_relationships_of_a_type(world: dict[str, Any]) -> None:
    v = show(SYSTEM, "relationships.count", "Acme", params={"type": "works_at", "role": "champion"})
    assert v["value"] == 1 and "Ann Bell" in v["reasons"][1]
    assert show(SYSTEM, "relationships.count", "Acme")["value"] == 3
    early = show(SYSTEM, "relationships.count", "Acme", as_of="2020-01-01")
    assert early["value"] == 3  # no since date: in force always
    add_person_at(name="Late Larry", org=world["acme"].id, role="Champion", since="2026-06-10")
    assert show(SYSTEM, "relationships.count", "Acme", params={"role": "champion"})["value"] == 2
    past = show(
        SYSTEM, "relationships.count", "Acme", params={"role": "champion"}, as_of="2026-06-01"
    )
    assert past["value"] == 1


def test_number_field_as_of_its_history(world: dict[str, Any], time_travel: Any) -> None:
    add_field(type_key="organization", spec="seats:number")
    update_record(ref=world["acme"].id, values={"seats": 10})
    time_travel.advance(days=10)
    update_record(ref=world["acme"].id, values={"seats": 25})
    params = {"field": "seats"}
    assert show(SYSTEM, "field.number", "Acme", params=params)["value"] == 25
    assert show(SYSTEM, "field.number", "Acme", params=params, as_of="2026-06-15")["value"] == 10
    assert show(SYSTEM, "field.number", "Acme", params=params, as_of="2026-06-01")["value"] is None
    with pytest.raises(ValidationError, match="no number field 'size2'"):
        show(SYSTEM, "field.number", "Acme", params={"field": "size2"})


def test_records_matching_a_condition(world: dict[str, Any]) -> None:
    update_record(ref=world["lee"].id, values={"title": "VP Finance"})
    cond = {"field": "title", "op": "contains", "value": "vp"}
    v = show(SYSTEM, "records.matching", "Acme", params={"type": "person", "condition": cond})
    assert v["value"] == 1 and v["evidence"] == [world["lee"].id]
    with pytest.raises(ValidationError, match=r"filter\.condition"):
        show(
            SYSTEM,
            "records.matching",
            "Acme",
            params={"condition": {"field": "nope", "op": "eq", "value": 1}},
        )


def test_bad_input_names_the_field(world: dict[str, Any]) -> None:
    with pytest.raises(NotFound, match="metric: unknown metric 'nope'"):
        show(SYSTEM, "nope", "Acme")
    with pytest.raises(ValidationError, match="--window: 'soon'"):
        show(SYSTEM, "health", "Acme", window="soon")
    with pytest.raises(ValidationError, match="as_of: '2026-13-01'"):
        show(SYSTEM, "health", "Acme", as_of="2026-13-01")
    with pytest.raises(ValidationError, match="--filter: not valid JSON"):
        show(SYSTEM, "health", "Acme", params="{x")
    with pytest.raises(NotFound, match="ref: no record matches 'Nobody'"):
        show(SYSTEM, "health", "Nobody")
    assert parse_window("12w") == 84 and parse_window("3m") == 90 and parse_window(None) == 90


def test_hidden_people_are_neither_counted_nor_named(world: dict[str, Any], settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    add_user(email="owner@our.test", role="member", password="a long password 1")
    add_user(email="other@our.test", role="member", password="a long password 2")
    owner = get_user("owner@our.test")
    secret = add_owned_record(user=owner, private=True, type_key="person", name="Secret Sue")
    relate(a=secret.id, type_name="works_at", b=world["acme"].id, role="CEO")
    log("meeting", world["mia"], secret, at="2026-06-14T10:00Z")
    them, me = viewer_of(get_user("other@our.test")), viewer_of(owner)
    assert show(me, "interactions.two_way", "Acme")["value"] == 4
    mine = show(me, "exec.days_since_meeting", "Acme")
    assert mine["value"] == 1
    theirs = show(them, "interactions.two_way", "Acme")
    assert theirs["value"] == 3
    ex = show(them, "exec.days_since_meeting", "Acme")
    assert ex["value"] == 45
    engaged = show(them, "people.engaged", "Acme")
    assert secret.id not in engaged["evidence"] and engaged["n"] == 3
    assert "Secret Sue" not in json.dumps(show(them, "relationships.count", "Acme"))
    with pytest.raises(NotFound):
        show(them, "health", secret.id)


KEYS = [
    ("health", {}),
    ("people.engaged", {}),
    ("team.in_touch", {}),
    ("interactions.two_way", {}),
    ("interactions.two_way", {"kind": "call"}),
    ("exec.days_since_meeting", {}),
    ("relationships.count", {"role": "champion"}),
    ("field.number", {"field": "seats"}),
]


def test_a_metric_as_of_a_past_day_equals_what_it_said_that_day(time_travel: Any) -> None:
    """Property: live along a year of changes, record every metric each week; then recompute
    every one of those days afterwards and compare."""
    rnd = random.Random(13)
    time_travel.to("2026-01-05T12:00:00Z")
    home = make_home()
    team = [make_person(f"Member {i}", org=home) for i in range(3)]
    acme = make_org("Acme")
    add_field(type_key="organization", spec="seats:number")
    people = [
        make_person(f"Person {i}", org=acme, role=rnd.choice(["CFO", "Champion", "Dev"]))
        for i in range(4)
    ]
    said: list[tuple[str, str, dict[str, Any], Any, int, list[str]]] = []
    for week in range(30):
        for _ in range(rnd.randint(0, 4)):
            at = time_travel.now() - dt.timedelta(hours=rnd.randint(1, 140))
            kind = rnd.choice(["meeting", "call", "email"])
            log(
                kind,
                rnd.choice(team),
                rnd.choice(people),
                at=at.isoformat(),
                direction=rnd.choice(["in", "out"]) if kind == "email" else "",
            )
        if week % 5 == 2:
            people.append(
                make_person(
                    f"Hire {week}",
                    org=acme,
                    role=rnd.choice(["VP Sales", "Champion"]),
                    since=time_travel.now().date().isoformat(),
                )
            )
        if week % 4 == 1:
            update_record(ref=acme.id, values={"seats": rnd.randint(1, 100)})
        if week % 7 == 3:
            rel = (
                Relationship.objects.filter(to_record=acme, until__isnull=True)
                .exclude(since=time_travel.now().date())  # one that began today cannot end today
                .order_by("id")
                .first()
            )
            if rel is not None:
                end_relationship(rel_id=rel.id, on=time_travel.now().date().isoformat())
        for key, params in KEYS:
            v = show(SYSTEM, key, acme.id, params=params, window="30d")
            said.append((v["as_of"], key, params, v["value"], v["n"], v["reasons"]))
        time_travel.advance(days=7)
    assert len({s[3] for s in said if s[1] == "interactions.two_way" and not s[2]}) > 3
    assert len({s[3] for s in said if s[1] == "field.number"}) > 3
    for day, key, params, value, n, reasons in said:
        again = show(SYSTEM, key, acme.id, params=params, window="30d", as_of=day)
        assert (again["value"], again["n"], again["reasons"]) == (value, n, reasons), (day, key)


def test_many_records_at_once_equal_one_at_a_time(world: dict[str, Any]) -> None:
    """The worker's batched form gives what each record's own computation gives."""
    zeta = make_org("Zeta")
    zed = make_person("Zed Ko", org=zeta, role="CEO")
    log("meeting", world["mia"], zed, at="2026-06-05T10:00Z")
    log("call", world["tom"], zed, at="2026-06-09T10:00Z")
    empty = make_org("Nobody Inc")
    orgs = [world["acme"], zeta, empty]
    day = dt.date(2026, 6, 15)
    for key in ("people.engaged", "team.in_touch", "interactions.two_way", "health"):
        many = measure_many(SYSTEM, key, orgs, as_of=day, window=90)
        one = [measure(SYSTEM, key, o, as_of=day, window=90) for o in orgs]
        assert many == one, key
    assert [r.value for r in measure_many(SYSTEM, "people.engaged", orgs, as_of=day)] == [
        2.0,
        1.0,
        0.0,
    ]
