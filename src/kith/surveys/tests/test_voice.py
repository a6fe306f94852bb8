"""The voice series on real answers: per quarter, trend and projection, coverage and the
silent key people; the same answers through the CLI, the API and the metric catalogue;
privacy (a private respondent or account is counted nowhere for those who may not see it)."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import set_private
from kith.core import clock
from kith.core.viewer import SYSTEM, Viewer
from kith.intelligence.selectors import health
from kith.interactions.services import log_interaction
from kith.lists.services import save_view
from kith.metrics.selectors import show
from kith.records.models import Record
from kith.server.tests.conftest import Caller, make_caller
from kith.surveys import services
from kith.surveys.voice import voice
from kith.testing import make_home, make_org, make_person

QUARTERS = [dt.date(2025, 8, 15), dt.date(2025, 11, 15), dt.date(2026, 2, 15), dt.date(2026, 5, 15)]


def _answers(org: Record, people: list[Record], day: dt.date, scores: list[int], tag: str) -> None:
    for k, s in enumerate(scores):
        p = people[k % len(people)]
        log_interaction(
            kind="survey", participants=[(p.id, "from")], links=[org.id], score=s,
            at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC) + dt.timedelta(minutes=k),
            external_id=f"{tag}-{day}-{k}", meta={"survey_kind": "nps"},
        )  # fmt: skip


@pytest.fixture
def book(time_travel: clock.Trip) -> dict[str, object]:
    make_home()
    acme = make_org("Acme")
    beta = make_org("Beta")
    ann = make_person("Ann Lee", email="ann@acme.test", org=acme, role="CFO")
    ben = make_person("Ben Ode", email="ben@acme.test", org=acme, role="Champion")
    cat = make_person("Cat Poe", email="cat@acme.test", org=acme, role="CTO")
    dan = make_person("Dan Roe", email="dan@beta.test", org=beta, role="Engineer")
    # Acme rises quarter by quarter: 0 -> 20 -> 40 -> 60 over 10 answers each
    for day, (prom, det) in zip(QUARTERS, [(3, 3), (4, 2), (5, 1), (6, 0)], strict=True):
        scores = [10] * prom + [3] * det + [8] * (10 - prom - det)
        random.Random(day.toordinal()).shuffle(scores)
        _answers(acme, [ann, ben], day, scores, "acme")
    _answers(beta, [dan], QUARTERS[-1], [9, 9], "beta")
    return {"acme": acme, "beta": beta, "ann": ann, "ben": ben, "cat": cat, "dan": dan}


def test_quarterly_nps_trend_projection_and_silent_key_people(book) -> None:
    data = voice(SYSTEM, ref="Acme", metric="nps", every="quarter", as_of="2026-06-15")
    assert [s["period"] for s in data["series"]] == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    assert [s["value"] for s in data["series"]] == [0.0, 20.0, 40.0, 60.0]
    assert [s["n"] for s in data["series"]] == [10, 10, 10, 10]
    assert data["series"][1]["groups"] == {"promoters": 4, "passives": 4, "detractors": 2}
    t = data["trend"]
    assert t["enough"] and t["direction"] == "rising" and t["slope"] == 20.0
    assert t["p"] == pytest.approx(1 / 12, abs=1e-4)  # exact Mann-Kendall, 4 rising points
    assert t["projection"][0]["value"] == 80.0 and t["projection"][1]["value"] == 100.0
    assert data["sentence"].startswith(
        "NPS at Acme: 0 → 20 → 40 → 60 over 4 quarters (n 10, 10, 10, 10); rising, +20 a quarter"
    )
    assert "projects 80 ± " in data["sentence"]
    cov = data["coverage"]
    assert (cov["key_people"], cov["answered"]) == (3, 2)
    assert [p["name"] for p in cov["silent"]] == ["Cat Poe"]
    assert cov["reason"].startswith("2 of 3 key people answered")


def test_too_few_answers_says_so_instead_of_a_line(book) -> None:
    data = voice(SYSTEM, ref="Beta", as_of="2026-06-15")
    assert data["trend"]["enough"] is False
    assert "too few answers for a trend" in data["sentence"]
    assert data["series"][-1]["value"] == 100.0 and data["series"][-1]["n"] == 2


def test_per_person_and_whole_book(book) -> None:
    ann = voice(SYSTEM, ref=book["ann"].id, as_of="2026-06-15")
    assert sum(s["n"] for s in ann["series"]) == 20 and ann["coverage"] is None
    whole = voice(SYSTEM, as_of="2026-06-15")
    assert [s["n"] for s in whole["series"]] == [10, 10, 10, 12]
    assert whole["scope"]["kind"] == "book"


def test_bare_scores_count_as_nps_or_csat_by_range(book) -> None:
    for k, s in enumerate([4, 5, 5]):
        log_interaction(kind="survey", participants=[(book["dan"].id, "from")], score=s,
                        external_id=f"bare-{k}")  # fmt: skip
    csat = voice(SYSTEM, ref="Dan Roe", metric="csat", as_of="2026-06-15")
    assert csat["series"][-1]["n"] == 3 and csat["series"][-1]["value"] == 100.0
    nps = voice(SYSTEM, ref="Dan Roe", metric="nps", as_of="2026-06-15")
    assert nps["series"][-1]["n"] == 2  # the two NPS 9s named as such


def test_the_metric_catalogue_measures_nps_for_plans(book) -> None:
    out = show(SYSTEM, "nps", "Acme", as_of=dt.date(2026, 6, 15), window="90")
    assert out["value"] == 60.0 and out["n"] == 10
    assert "6 promoters" in " ".join(out["reasons"])


def test_cli_and_api_give_the_same_series(book, cli) -> None:
    code, out, _ = cli("voice", "Acme", "--as-of", "2026-06-15", "--json")
    assert code == 0
    from_cli = json.loads(out)
    caller = make_caller("v@our.test", "viewer")
    status, from_api = caller.call("GET", f"/voice/{book['acme'].id}", as_of="2026-06-15")
    assert status == 200
    assert from_api["series"] == from_cli["series"] and from_api["sentence"] == from_cli["sentence"]
    code, out, _ = cli("voice", "Acme", "--as-of", "2026-06-15")
    assert code == 0 and "never answered: Cat Poe (CTO)" in out
    code, _, err = cli("voice", "Acme", "--metric", "mood")
    assert code == 1 and "metric: 'mood' is not one of nps, csat, ces, sentiment" in err


def test_private_records_are_counted_nowhere_for_others(book) -> None:
    member = make_caller("m@our.test", "member")
    owner = make_caller("o@our.test", "member")
    set_private(record=book["ben"], private=True, user=get_user("o@our.test"))
    other = Viewer(user_id=get_user("m@our.test").id, admin=False, label="m")
    mine = Viewer(user_id=get_user("o@our.test").id, admin=False, label="o")
    seen = voice(other, ref="Acme", as_of="2026-06-15")
    assert [s["n"] for s in seen["series"]] == [5, 5, 5, 5]  # Ben's answers are not counted
    assert all("Ben" not in p["name"] for p in seen["coverage"]["silent"])
    assert seen["coverage"]["key_people"] == 2
    assert [s["n"] for s in voice(mine, ref="Acme", as_of="2026-06-15")["series"]] == [10] * 4
    book_view = voice(other, as_of="2026-06-15")
    assert sum(s["n"] for s in book_view["series"]) == 22
    status, body = member.call("GET", f"/voice/{book['ben'].id}")
    assert status == 404
    status, body = owner.call("GET", f"/voice/{book['ben'].id}", as_of="2026-06-15")
    assert status == 200 and sum(s["n"] for s in body["series"]) == 20
    # a private account: its series is not found, and the book leaves its answers out
    set_private(record=book["acme"], private=True, user=get_user("o@our.test"))
    assert member.call("GET", f"/voice/{book['acme'].id}")[0] == 404
    assert sum(s["n"] for s in voice(other, as_of="2026-06-15")["series"]) == 2


def test_api_response_is_idempotent_by_external_id(book) -> None:
    caller: Caller = make_caller("w@our.test", "member")
    body = {"respondent": "new.person@gamma.test", "score": 6, "comment": "Awful, broken again.",
            "external_id": "typeform-123"}  # fmt: skip
    status, first = caller.call("POST", "/survey-responses", body)
    assert status == 201 and first["kind"] == "nps" and first["sentiment"] < 0
    status, again = caller.call("POST", "/survey-responses", body)
    assert status == 200 and again["id"] == first["id"] and again["created"] is False
    status, bad = caller.call(
        "POST", "/survey-responses", {**body, "score": 42, "external_id": "x"}
    )
    assert status == 422 and bad["message"] == "score: 42 is outside 0..10"
    viewer = make_caller("r@our.test", "viewer")
    assert viewer.call("POST", "/survey-responses", body)[0] == 403


def test_health_names_the_key_people_who_never_answer(book) -> None:
    assert not any("answered a survey" in r for r in health(SYSTEM, "Acme")["reasons"])
    services.add_survey(kind="nps", question="Recommend us?", name="N")
    services.link_invite(viewer=SYSTEM, survey="N", person="Dan Roe")
    reasons = health(SYSTEM, "Acme", as_of=dt.date(2026, 6, 15))["reasons"]
    assert "only 2 of 3 key people answered a survey in the last 12 months (never: Cat Poe)" in (
        reasons
    )


def test_a_saved_view_of_organisations(book, cli) -> None:
    make_caller("views@our.test", "member")
    mine = viewer_of(get_user("views@our.test"))
    save_view(viewer=mine, type_key="organization", name="Accounts", query={"q": ["Acme"]})
    data = voice(mine, view="Accounts", as_of="2026-06-15")
    assert data["scope"] == {"kind": "view", "id": None, "name": "Accounts"}
    assert [s["n"] for s in data["series"]] == [10, 10, 10, 10]  # Acme's, not Beta's
    code, out, _ = cli("voice", "--view", "Accounts", "--as-of", "2026-06-15", "--json")
    assert code == 0 and json.loads(out)["series"] == data["series"]
