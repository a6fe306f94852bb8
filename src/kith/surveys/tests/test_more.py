"""Schedules, monthly periods, the CES and custom kinds, links given by hand, and the
surveys API's privacy."""

from __future__ import annotations

import datetime as dt

import pytest

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import set_private
from kith.core import clock, worker
from kith.core.errors import Conflict
from kith.core.viewer import SYSTEM
from kith.interactions.services import log_interaction
from kith.lists.services import save_view
from kith.server.tests.conftest import make_caller
from kith.surveys import services
from kith.surveys.jobs import sweep
from kith.surveys.models import Invite
from kith.surveys.tests.conftest import SmtpServer
from kith.surveys.voice import periods, voice
from kith.testing import make_home, make_org, make_person


@pytest.fixture
def acme(time_travel: clock.Trip) -> dict[str, object]:
    make_home()
    org = make_org("Acme")
    ann = make_person("Ann Lee", email="ann@acme.test", org=org, role="CFO")
    bob = make_person("Bob Ray", email="bob@acme.test", org=org)
    return {"org": org, "ann": ann, "bob": bob}


def test_periods_are_calendar_months_and_quarters_ending_on_the_day() -> None:
    q = periods(dt.date(2026, 6, 15), "quarter", 3)
    assert [(p.label, p.start.isoformat(), p.end.isoformat()) for p in q] == [
        ("2025Q4", "2025-10-01", "2025-12-31"),
        ("2026Q1", "2026-01-01", "2026-03-31"),
        ("2026Q2", "2026-04-01", "2026-06-15"),
    ]
    m = periods(dt.date(2026, 1, 10), "month", 2)
    assert [(p.label, p.end.isoformat()) for p in m] == [("2025-12", "2025-12-31"),
                                                         ("2026-01", "2026-01-10")]  # fmt: skip


def test_monthly_ces_series(acme) -> None:
    s = services.add_survey(kind="ces", question="How easy was it?", name="E")
    for k, (day, score) in enumerate([("2026-04-03", 3), ("2026-05-03", 5), ("2026-05-04", 7)]):
        services.record_response(viewer=SYSTEM, respondent="Ann Lee", score=score, survey=s.id,
                                 at=f"{day}T10:00:00Z", external_id=f"ces-{k}")  # fmt: skip
    data = voice(SYSTEM, ref="Acme", metric="ces", every="month", count=3)
    assert [(p["period"], p["value"], p["n"]) for p in data["series"]] == [
        ("2026-04", 3.0, 1),
        ("2026-05", 6.0, 2),
        ("2026-06", None, 0),
    ]
    assert data["series"][1]["low"] == pytest.approx(6 - 1.959963984540054 * 1.0, abs=1e-2)


def test_a_scheduled_survey_asks_its_saved_view(acme, smtp: SmtpServer, time_travel) -> None:
    make_caller("owner@our.test", "member")
    mine = viewer_of(get_user("owner@our.test"))
    save_view(viewer=mine, type_key="organization", name="Customers", query={})
    services.add_survey(kind="nps", question="Recommend us?", name="Monthly",
                        audience={"view": "Customers"},
                        trigger={"on": "schedule", "rrule": "FREQ=MONTHLY;BYMONTHDAY=1"})  # fmt: skip
    assert sweep.call()["scheduled"] == 0  # not the 1st yet
    time_travel.to("2026-07-01T09:00:00Z")
    assert sweep.call()["scheduled"] == 1
    assert sweep.call()["scheduled"] == 0  # once per occurrence
    worker.run_pending(periodic=False)
    assert sorted(m["To"] for m in smtp.inbox.messages) == ["ann@acme.test", "bob@acme.test"]
    assert set(Invite.objects.values_list("cause", flat=True)) == {"schedule"}


def test_a_link_given_by_hand_is_single_use_and_respects_opt_out(acme) -> None:
    services.add_survey(kind="csat", question="Happy?", name="C")
    inv, token = services.link_invite(viewer=SYSTEM, survey="C", person="Bob Ray")
    assert inv.token_hash == services.token_hash(token) and token not in str(inv.__dict__)
    services.respond(token=token, score=5)
    with pytest.raises(Conflict):
        services.respond(token=token, score=4)
    services.opt_out(token=token)
    with pytest.raises(Conflict, match="suppressed"):
        services.link_invite(viewer=SYSTEM, survey="C", person="Bob Ray")


def test_the_api_keeps_private_people_out_of_a_survey(acme) -> None:
    owner = make_caller("o@our.test", "member")
    member = make_caller("m@our.test", "member")
    services.add_survey(kind="nps", question="Recommend us?", name="N")
    services.send_survey(viewer=SYSTEM, survey="N", to=["Acme"])
    set_private(record=acme["ann"], private=True, user=get_user("o@our.test"))
    status, body = member.call("GET", "/surveys/N")
    assert status == 200 and [i["name"] for i in body["latest"]] == ["Bob Ray"]
    assert body["invites"]["queued"] == 1
    status, body = owner.call("GET", "/surveys/N")
    assert sorted(i["name"] for i in body["latest"]) == ["Ann Lee", "Bob Ray"]
    status, listed = member.call("GET", "/surveys")
    assert listed[0]["invites"]["queued"] == 1
    # a private person's answer is left out of the member's NPS of the account, and found
    log_interaction(kind="survey", participants=[(acme["ann"].id, "from")], score=0,
                    links=[acme["org"].id], external_id="p-1")  # fmt: skip
    status, seen = member.call("GET", f"/voice/{acme['org'].id}")
    assert status == 200 and sum(p["n"] for p in seen["series"]) == 0
    status, seen = owner.call("GET", f"/voice/{acme['org'].id}")
    assert sum(p["n"] for p in seen["series"]) == 1


def test_bad_voice_and_survey_input_is_named_not_a_crash(acme) -> None:
    caller = make_caller("bad@our.test", "member")
    for query, field in [({"as_of": "0001-01-01"}, "as_of"), ({"periods": 1000}, "periods"),
                         ({"every": "year"}, "every"), ({"metric": "mood"}, "metric")]:  # fmt: skip
        status, body = caller.call("GET", "/voice", **query)
        assert status == 422 and body["field"] == field, body
    for payload, field in [
        ({"kind": "nps", "question": "Q", "trigger": {"on": "schedule", "rrule": 5}}, "trigger"),
        ({"kind": "nps", "question": "Q", "audience": {"view": ""}}, "audience"),
        ({"kind": "csat", "question": "Q", "expire_after_days": 0}, "expire"),
        ({"kind": "custom", "question": "Q", "scale": "a-b"}, "scale"),
    ]:
        status, body = caller.call("POST", "/surveys", payload)
        assert status == 422 and body["field"] == field, body
