"""Surveys end to end: define, dry run, send through a real SMTP server by the worker,
answer once through the tokened link, throttle, expiry, reminders, closing the loop."""

from __future__ import annotations

import logging
import re

import pytest
from django_tasks_db.models import DBTaskResult

from kith.core import clock, worker
from kith.core.errors import Conflict, NotFound, ValidationError
from kith.core.viewer import SYSTEM
from kith.interactions.models import Interaction
from kith.interactions.outcomes import define_outcome
from kith.surveys import services
from kith.surveys.jobs import sweep
from kith.surveys.models import Invite, OptOut
from kith.surveys.tests.conftest import SmtpServer
from kith.tasks.models import Task
from kith.testing import log, make_home, make_org, make_person

LINK = re.compile(r"Answer here: https://crm\.test/s/([A-Za-z0-9_-]+)\s")


@pytest.fixture
def acme(time_travel: clock.Trip) -> dict[str, object]:
    make_home()
    org = make_org("Acme")
    ann = make_person("Ann Lee", email="ann@acme.test", org=org, role="CFO")
    bob = make_person("Bob Ray", email="bob@acme.test", org=org, role="Engineer")
    cy = make_person("Cy Nomail", org=org, role="Analyst")
    return {"org": org, "ann": ann, "bob": bob, "cy": cy}


def _token(msg: object) -> str:
    text = msg.get_payload(decode=True).decode()  # type: ignore[attr-defined]
    found = LINK.search(text)
    assert found, text
    return found.group(1)


def test_add_survey_checks_every_value() -> None:
    s = services.add_survey(kind="nps", question="How likely are you to recommend us?")
    assert (s.scale_min, s.scale_max, s.throttle_days) == (0, 10, 90)
    with pytest.raises(ValidationError, match="kind: 'nsp' is not one of"):
        services.add_survey(kind="nsp", question="Q")
    with pytest.raises(ValidationError, match="scale: NPS is asked 0-10"):
        services.add_survey(kind="nps", question="Q", scale="1-5", name="x")
    with pytest.raises(ValidationError, match="throttle: -1 is outside"):
        services.add_survey(kind="csat", question="Q", throttle_days=-1, name="y")
    with pytest.raises(ValidationError, match=r"trigger\.on: 'sometimes'"):
        services.add_survey(kind="csat", question="Q", trigger={"on": "sometimes"}, name="z")


def test_dry_run_lists_who_is_asked_and_who_is_suppressed_and_writes_nothing(acme) -> None:
    services.add_survey(kind="nps", question="Recommend us?", name="Q2 NPS")
    plan = services.send_survey(viewer=SYSTEM, survey="Q2 NPS", to=["Acme"], dry_run=True)
    assert [p["name"] for p in plan["asked"]] == ["Ann Lee", "Bob Ray"]
    assert [(p["name"], p["reason"]) for p in plan["suppressed"]] == [("Cy Nomail", "no email")]
    assert Invite.objects.count() == 0 and DBTaskResult.objects.count() == 0


def test_send_answer_once_and_the_token_is_only_in_the_email(
    acme, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    services.add_survey(kind="nps", question="Recommend us?", name="Q2 NPS")
    out = services.send_survey(viewer=SYSTEM, survey="Q2 NPS", to=["Ann Lee"])
    assert len(out["asked"]) == 1 and smtp.inbox.messages == []
    assert worker.run_pending(periodic=False)["succeeded"] == 1
    (msg,) = smtp.inbox.messages
    assert msg["To"] == "ann@acme.test" and "Recommend us?" in msg["Subject"]
    token = _token(msg)
    inv = Invite.objects.get()
    assert inv.status == "sent" and inv.token_hash == services.token_hash(token)
    # no secret anywhere but the email: not in the job, the invite row or the logs
    for job in DBTaskResult.objects.all():
        assert token not in str(job.args_kwargs) and token not in str(job.return_value)
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
    assert ours and not any(token in line for line in ours)  # (the test server's own log has it)
    assert token not in str(list(Invite.objects.values()))

    answer = services.respond(token=token, score="3", comment="The support was terrible.")
    assert answer.kind == "survey" and answer.score == 3.0
    assert answer.meta["survey_kind"] == "nps" and answer.meta["invite"] == inv.id
    assert list(answer.participants.values_list("record_id", "role")) == [(acme["ann"].id, "from")]
    assert list(answer.links.values_list("record_id", flat=True)) == [acme["org"].id]
    answer.refresh_from_db()
    assert answer.sentiment is not None and answer.sentiment < 0  # the comment, scored
    with pytest.raises(Conflict, match="answered already"):
        services.respond(token=token, score="9")
    assert Interaction.objects.filter(kind="survey").count() == 1
    # a detractor opened the follow-up task ("close the loop") about Ann and Acme
    task = Task.objects.get(source="survey")
    assert task.title == "Close the loop: Ann Lee answered NPS 3"
    assert set(task.links.values_list("record_id", flat=True)) == {acme["ann"].id, acme["org"].id}


def test_a_promoter_opens_no_task_and_a_bad_score_is_named(acme, smtp: SmtpServer) -> None:
    services.add_survey(kind="nps", question="Recommend us?", name="N")
    services.send_survey(viewer=SYSTEM, survey="N", to=["Ann Lee"])
    worker.run_pending(periodic=False)
    token = _token(smtp.inbox.messages[0])
    with pytest.raises(ValidationError, match=r"score: 11 is outside 0\.\.10"):
        services.respond(token=token, score="11")
    with pytest.raises(ValidationError, match="score: 'ten' is not a number"):
        services.respond(token=token, score="ten")
    services.respond(token=token, score="10", comment="Great team, thank you!")
    assert not Task.objects.filter(source="survey").exists()
    with pytest.raises(NotFound, match="not valid"):
        services.respond(token="forged-token", score="5")


def test_throttle_and_opt_out_suppress_with_the_reason(acme, smtp: SmtpServer, time_travel) -> None:
    services.add_survey(kind="nps", question="Recommend us?", name="A", throttle_days=90)
    services.add_survey(kind="csat", question="Happy?", name="B")
    services.send_survey(viewer=SYSTEM, survey="A", to=["Ann Lee", "Bob Ray"])
    worker.run_pending(periodic=False)
    token_bob = _token(next(m for m in smtp.inbox.messages if m["To"] == "bob@acme.test"))
    services.opt_out(token=token_bob)
    assert OptOut.objects.filter(person=acme["bob"]).exists()
    time_travel.advance(days=30)
    plan = services.send_survey(viewer=SYSTEM, survey="B", to=["Acme"], dry_run=True)
    reasons = {p["name"]: p["reason"] for p in plan["suppressed"]}
    assert reasons == {
        "Ann Lee": "throttled: asked in the last 90 days",
        "Bob Ray": "opted out",
        "Cy Nomail": "no email",
    }
    time_travel.advance(days=61)
    plan = services.send_survey(viewer=SYSTEM, survey="B", to=["Acme"], dry_run=True)
    assert [p["name"] for p in plan["asked"]] == ["Ann Lee"]


def test_account_quota_per_quarter(acme, smtp: SmtpServer) -> None:
    services.add_survey(kind="nps", question="Recommend us?", name="Q", per_account_quarter=1)
    plan = services.send_survey(viewer=SYSTEM, survey="Q", to=["Acme"], dry_run=True)
    assert [p["name"] for p in plan["asked"]] == ["Ann Lee"]
    assert ("Bob Ray", "account quota: 1 this quarter") in [
        (p["name"], p["reason"]) for p in plan["suppressed"]
    ]


def test_reminder_then_expiry(acme, smtp: SmtpServer, time_travel) -> None:
    services.add_survey(kind="csat", question="Happy?", name="C", remind_after_days=3,
                        expire_after_days=7)  # fmt: skip
    services.send_survey(viewer=SYSTEM, survey="C", to=["Ann Lee"])
    worker.run_pending(periodic=False)
    first = _token(smtp.inbox.messages[0])
    time_travel.advance(days=4)
    assert sweep.call()["reminders"] == 1
    worker.run_pending(periodic=False)
    assert len(smtp.inbox.messages) == 2
    assert smtp.inbox.messages[1]["Subject"].startswith("Reminder: ")
    second = _token(smtp.inbox.messages[1])
    with pytest.raises(NotFound):  # the reminder's link replaces the first
        services.respond(token=first, score=5)
    assert sweep.call()["reminders"] == 0  # one reminder only
    time_travel.advance(days=4)
    with pytest.raises(Conflict, match="expired"):
        services.respond(token=second, score=5)
    assert sweep.call()["expired"] == 1
    assert Invite.objects.get().status == "expired"


def test_a_refused_recipient_is_bounced(acme, refusing_smtp: SmtpServer) -> None:
    services.add_survey(kind="nps", question="Recommend us?", name="N")
    services.send_survey(viewer=SYSTEM, survey="N", to=["Ann Lee"])
    worker.run_pending(periodic=False)
    inv = Invite.objects.get()  # a 5xx refusal is final: bounced at once, not retried
    assert inv.status == "bounced" and "554" in inv.reason and inv.token_hash is None


def test_a_rule_trigger_asks_after_a_resolved_ticket(acme, smtp: SmtpServer, time_travel) -> None:
    services.add_survey(kind="csat", question="Was your ticket solved?", name="T",
                        trigger={"on": "rule", "kind": "ticket", "outcome": "resolved",
                                 "delay_hours": 24})  # fmt: skip
    define_outcome(key="resolved", polarity="positive")
    log("ticket", acme["ann"], outcome="resolved", subject="Login broken")
    log("ticket", acme["bob"], outcome="", subject="Question")
    inv = Invite.objects.get()
    assert inv.person_id == acme["ann"].id and inv.cause
    worker.run_pending(periodic=False)
    assert smtp.inbox.messages == []  # held back 24 h
    time_travel.advance(seconds=25 * 3600)
    worker.run_pending(periodic=False)
    assert [m["To"] for m in smtp.inbox.messages] == ["ann@acme.test"]
