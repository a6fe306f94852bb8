"""Digests: sections from what the user may see, sent in-app and by email through the worker
to a real SMTP server on loopback, never empty, never repeating an item across two sends."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from kith.accounts.selectors import get_user
from kith.accounts.services import add_user
from kith.briefs.digest import digest
from kith.briefs.models import Digest
from kith.briefs.services import send_digest, subscribe
from kith.core import clock, worker
from kith.core.errors import ValidationError
from kith.notifications.models import Notification
from kith.notifications.tests.conftest import SmtpServer, smtp  # noqa: F401 (a fixture)
from kith.tasks.services import create_task
from kith.testing import log, make_person


@pytest.fixture
def ann_user(acme: dict[str, Any]) -> Any:
    add_user(email="ann@our.test", role="member", password="a long password 3")
    user = get_user("ann@our.test")
    with clock.travel("2026-10-20T09:00Z"):
        create_task(viewer=acme["other"], title="Call Kim back", due="2026-11-02", owner=user)
    return user


def _ids(d: dict[str, Any]) -> set[str]:
    return {e for s in d["sections"] for line in s["lines"] for e in line["evidence"]}


def test_the_digest_sections(acme: dict[str, Any], ann_user: Any) -> None:
    lou = make_person("Lou Grey", email="lou@acme.test", org=acme["org"], role="Buyer")
    mail = log("email", lou, acme["ann"], at="2026-11-10T09:00Z", direction="in", subject="Hi")
    since = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    until = dt.datetime(2026, 11, 14, tzinfo=dt.UTC)
    d = digest(ann_user, since, until)
    keys = [s["key"] for s in d["sections"]]
    assert keys == ["accounts", "tasks", "meetings", "inbound"], keys
    accounts = d["sections"][0]["lines"]
    assert accounts[0]["text"].startswith("Acme: ") and accounts[0]["link"].endswith("/brief")
    assert d["sections"][1]["lines"][0]["text"] == "Call Kim back (due 2026-11-02)"
    (meeting,) = d["sections"][2]["lines"]
    assert "Renewal review" in meeting["text"] and meeting["link"] == (
        f"/meetings/{acme['planned'].id}/brief"
    )
    (inbound,) = d["sections"][3]["lines"]  # Lou never heard back: cold; Raj is not at risk
    said = re.fullmatch(r"Lou Grey \(health (\d+)\) wrote on 2026-11-10 'Hi'", inbound["text"])
    assert said and int(said.group(1)) < 35
    assert inbound["evidence"] == [mail.id, lou.id]
    assert all(line["evidence"] for s in d["sections"] for line in s["lines"])


def test_send_in_app_and_by_email_through_the_worker(
    acme: dict[str, Any],
    ann_user: Any,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    subscribe(user="ann@our.test", rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=7", zone="Europe/Paris")
    with clock.travel("2026-11-14T06:00Z"):
        first = send_digest(user="ann@our.test", since="14d")
    assert first is not None and first.email == "queued"
    assert smtp.inbox.messages == []  # the worker sends it
    assert Notification.objects.filter(user=ann_user, kind="digest").count() == 1
    assert Notification.objects.get(user=ann_user, kind="digest").email == ""  # no twin mail
    assert worker.run_pending(periodic=False)["succeeded"] == 1
    (msg,) = smtp.inbox.messages
    assert msg["To"] == "ann@our.test" and msg["Subject"].startswith("[Kith] Your digest:")
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in msg.walk()
             if not p.is_multipart()}  # fmt: skip
    assert set(parts) == {"text/plain", "text/html"}
    assert "My overdue tasks" in parts["text/plain"]
    assert 'style="' in parts["text/html"] and "<style" not in parts["text/html"]
    assert f"https://crm.test/meetings/{acme['planned'].id}/brief" in parts["text/html"]
    assert Digest.objects.get(pk=first.pk).email == "sent"
    # the next one starts at the watermark: nothing repeats
    log_at = "2026-11-15T09:00Z"
    fresh = log("email", acme["raj"], acme["ann"], at=log_at, direction="in", subject="Hello")
    with clock.travel("2026-11-16T06:00Z"):
        second = send_digest(user="ann@our.test")
    assert second is not None
    assert second.since == first.until
    body1 = json.dumps(first.body)
    assert fresh.id not in body1 and fresh.id in json.dumps(second.body)
    repeated = {e for e in _ids(first.body) & _ids(second.body) if e.startswith("int_")} - {
        acme["planned"].id
    }  # the meeting ahead is told again until it happens
    assert not repeated
    # nothing new at all: no digest, and the watermark still moves
    with clock.travel("2026-11-16T06:00Z"):
        assert send_digest(user="ann@our.test", since="last") is None


def test_never_an_empty_digest(acme: dict[str, Any], settings: Any) -> None:
    add_user(email="nobody@our.test", role="member", password="a long password 4")
    with clock.travel("2026-11-16T06:00Z"):
        assert send_digest(user="nobody@our.test", since="7d") is None
    assert not Digest.objects.exists()


def test_bad_subscriptions(acme: dict[str, Any], ann_user: Any) -> None:
    with pytest.raises(ValidationError, match="zone: 'Mars/Base' is not a time zone"):
        subscribe(user="ann@our.test", zone="Mars/Base")
    with pytest.raises(ValidationError, match="rrule: 'FREQ=SOMETIMES' is not an RRULE"):
        subscribe(user="ann@our.test", rrule="FREQ=SOMETIMES")
    with pytest.raises(ValidationError, match="channels: 'pigeon' is not one of"):
        subscribe(user="ann@our.test", channels=["pigeon"])
    with pytest.raises(ValidationError, match="since: 'soon' is not last"):
        send_digest(user="ann@our.test", since="soon")


def test_a_private_person_is_in_no_digest_of_another_user(acme: dict[str, Any]) -> None:
    add_user(email="ann@our.test", role="member", password="a long password 3")
    since = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    until = dt.datetime(2026, 11, 14, tzinfo=dt.UTC)
    shown = json.dumps(digest(get_user("ann@our.test"), since, until))
    for leak in ("Secret Sam", acme["secret"].id, acme["hush"].id, "Psst", "Secret lunch"):
        assert leak not in shown, leak


def test_cli(acme: dict[str, Any], ann_user: Any, cli: Any) -> None:
    code, out, _ = cli("digest-subscribe", "ann@our.test", "--zone", "Europe/Paris", "--json")
    assert code == 0 and json.loads(out)["channels"] == ["in_app", "email"]
    with clock.travel("2026-11-14T06:00Z"):
        code, out, _ = cli("digest", "--user", "ann@our.test", "--since", "14d", "--json")
    assert code == 0 and json.loads(out)[0]["user"] == "ann@our.test"
    assert not Digest.objects.exists()  # a preview writes nothing
    code, _, err = cli("digest", "--team", "nobody-team")
    assert code == 1 and "team: no user is on the team 'nobody-team'" in err
