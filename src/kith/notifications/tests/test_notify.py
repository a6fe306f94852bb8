"""notify() and email to a real SMTP server on loopback: sent, refused, timed out, unsubscribed."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django_tasks_db.models import DBTaskResult

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_user
from kith.conf import masked_url
from kith.core import clock, worker
from kith.core.errors import NotFound, ValidationError
from kith.notifications import mail, selectors, services
from kith.notifications.models import Notification, UnsubscribeToken
from kith.notifications.tests.conftest import Inbox, SmtpServer, free_port


@pytest.fixture
def jane() -> User:
    add_user(email="jane@our.test", role="member", password="correct horse battery")
    return get_user("jane@our.test")


def _n(pk: int) -> Notification:
    return Notification.objects.get(pk=pk)


def test_notify_shows_in_app_and_sends_the_email_through_smtp(jane: User, smtp: SmtpServer) -> None:
    n = services.notify(
        user=jane, kind="task.due", title="Call Ann", body="Due today.", link="/records/p1",
        evidence={"task": 7},
    )  # fmt: skip
    assert n is not None and n.email == "queued" and n.in_app
    assert selectors.unread_count(viewer_of(jane)) == 1
    assert smtp.inbox.messages == []  # the worker sends it, not the writer
    assert worker.run_pending(periodic=False)["succeeded"] == 1
    (msg,) = smtp.inbox.messages
    assert msg["To"] == "jane@our.test" and msg["From"] == "Kith <kith@crm.test>"
    assert msg["Subject"] == "[Kith] Call Ann"
    assert smtp.inbox.envelopes[0].rcpt_tos == ["jane@our.test"]
    text = msg.get_payload(decode=True).decode()
    assert "Due today." in text and "https://crm.test/records/p1" in text
    unsubscribe = "".join(msg["List-Unsubscribe"].split()).strip("<>")  # may be folded
    assert unsubscribe.startswith("https://crm.test/unsubscribe/") and unsubscribe in text
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    sent = _n(n.pk)
    assert (sent.email, sent.email_attempts, sent.email_error) == ("sent", 1, "")
    assert worker.run_pending(periodic=False)["succeeded"] == 0 and len(smtp.inbox.messages) == 1


def test_the_unsubscribe_token_is_stored_hashed_and_works_without_sign_in(
    jane: User, smtp: SmtpServer
) -> None:
    services.notify(user=jane, kind="task.due", title="One")
    services.notify(user=jane, kind="task.due", title="Two")
    worker.run_pending(periodic=False)
    links = {"".join(m["List-Unsubscribe"].split()) for m in smtp.inbox.messages}
    assert len(links) == 1  # every email of a kind carries the same link
    token = links.pop().strip("<>").rsplit("/", 1)[1]
    row = UnsubscribeToken.objects.get(user=jane, kind="task.due")
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.salt, row.token_hash)
    anonymous = Client(enforce_csrf_checks=True)
    page = anonymous.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and b"Stop these emails" in page.content
    # RFC 8058: the mail client POSTs this body, with no session and no CSRF token
    done = anonymous.post(f"/unsubscribe/{token}", {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and done.content == b"unsubscribed\n"
    assert services.effective_preference(jane.pk, "task.due") == (True, False)
    n = services.notify(user=jane, kind="task.due", title="Three")
    assert n is not None and n.email == "" and n.in_app  # still in the app, no email
    assert anonymous.post("/unsubscribe/not-a-token").status_code == 404


def test_preferences_per_kind_and_by_default(jane: User, smtp: SmtpServer) -> None:
    me = viewer_of(jane)
    services.set_preference(viewer=me, kind="task.due", email=False)
    assert services.notify(user=jane, kind="task.due", title="x").email == ""  # type: ignore[union-attr]
    services.set_preference(viewer=me, kind="*", in_app=False, email=False)
    assert services.notify(user=jane, kind="rule.notify", title="y") is None  # opted out
    kept = services.notify(user=jane, kind="task.due", title="z")  # its own setting wins
    assert kept is not None and kept.in_app and kept.email == ""
    prefs = selectors.preferences(me)
    assert prefs["default"] == {"in_app": False, "email": False}
    by_kind = {k["kind"]: k for k in prefs["kinds"]}
    assert by_kind["task.due"]["in_app"] and not by_kind["task.due"]["email"]
    assert not by_kind["rule.notify"]["in_app"]


def test_a_refusing_server_is_retried_with_backoff_then_recorded_failed(
    jane: User, refusing_smtp: SmtpServer, time_travel: clock.Trip
) -> None:
    n = services.notify(user=jane, kind="task.due", title="Refused")
    assert n is not None
    waits = []
    for _ in range(5):
        worker.run_pending(periodic=False)
        job = DBTaskResult.objects.get()
        if job.status == "READY":
            waits.append((job.run_after - clock.now()).total_seconds())
            time_travel.to(job.run_after)
    assert waits == [30.0, 60.0, 120.0, 240.0]  # back-off doubles
    failed = _n(n.pk)
    assert refusing_smtp.inbox.tries == 5 and failed.email == "failed"
    assert failed.email_error == (
        f"SMTP server 127.0.0.1:{refusing_smtp.port} refused: 554 5.7.1 Message refused by "
        "policy (5 tries)"
    )
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"  # the job ended; nothing left


def test_a_server_that_never_answers_times_out_and_is_retried(
    jane: User,
    silent_smtp: dict[str, int],
    time_travel: clock.Trip,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KITH_MAIL_BACKOFF", "1")
    n = services.notify(user=jane, kind="task.due", title="Silent")
    assert n is not None
    for _ in range(5):
        worker.run_pending(periodic=False)
        time_travel.advance(dt.timedelta(minutes=1))
    failed = _n(n.pk)
    assert failed.email == "failed" and failed.email_attempts == 5
    assert failed.email_error.endswith("did not answer within 0.5 s (5 tries)")


def test_user_and_password_in_the_url_sign_in_and_are_masked(
    jane: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str]] = []

    def check(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        seen.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"s3cret/pw")

    inbox, port = Inbox(), free_port()
    server = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=check, auth_require_tls=False
    )
    server.start()
    try:
        url = f"smtp://kith%40crm.test:s3cret%2Fpw@127.0.0.1:{port}?timeout=5"
        monkeypatch.setenv("KITH_SMTP_URL", url)
        config = mail.smtp_config()
        assert config is not None and "s3cret" not in str(config) and "***" in str(config)
        assert str(config) == masked_url(url)
        services.notify(user=jane, kind="task.due", title="Signed in")
        worker.run_pending(periodic=False)
    finally:
        server.stop()
    assert seen == [("kith@crm.test", "s3cret/pw")] and len(inbox.messages) == 1


def test_bad_smtp_urls_are_named_clearly() -> None:
    for url, message in (
        ("http://mail.test", "must start smtp://, smtp+starttls:// or smtps://"),
        ("smtp://", "names no host"),
        ("smtp://u:pw@mail.test?timeout=soon", "timeout in 'smtp://u:***@mail.test?timeout=soon'"),
    ):
        with pytest.raises(ValidationError) as caught:
            mail.parse_smtp_url(url)
        assert message in caught.value.message and "pw" not in caught.value.message
    assert mail.parse_smtp_url("smtps://mail.test").port == 465
    starttls = mail.parse_smtp_url("smtp://mail.test:2525?starttls=1")
    assert (starttls.security, starttls.port) == ("starttls", 2525)
    assert mail.parse_smtp_url("smtp+starttls://mail.test").security == "starttls"


def test_notify_in_a_rolled_back_transaction_leaves_nothing(jane: User, smtp: SmtpServer) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        services.notify(user=jane, kind="task.due", title="Never")
        raise RuntimeError("the change that caused it failed")
    assert not Notification.objects.exists() and not DBTaskResult.objects.exists()
    worker.run_pending(periodic=False)
    assert smtp.inbox.messages == []


def test_without_smtp_notifications_stay_in_app(
    jane: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KITH_SMTP_URL", raising=False)
    n = services.notify(user=jane, kind="task.due", title="Quiet")
    assert n is not None and n.email == "" and not DBTaskResult.objects.exists()


def test_bad_input_is_refused_naming_the_field(jane: User) -> None:
    for kwargs, message in (
        ({"kind": "Bad Kind!", "title": "x"}, "kind: 'Bad Kind!' is not a kind"),
        ({"kind": "task.due", "title": "  "}, "title: a notification needs a title"),
        ({"kind": "task.due", "title": "x", "link": "javascript:alert(1)"}, "link: 'javascript"),
        (
            {"kind": "task.due", "title": "x", "evidence": {"at": object()}},
            "evidence: must be JSON",
        ),
    ):
        with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
            services.notify(user=jane, **kwargs)  # type: ignore[arg-type]
    assert not Notification.objects.exists()


def test_mark_read_and_all_read_only_touch_your_own(jane: User) -> None:
    add_user(email="sam@our.test", role="member", password="correct horse battery")
    sam = get_user("sam@our.test")
    mine = [services.notify(user=jane, kind="task.due", title=f"n{i}") for i in range(3)]
    theirs = services.notify(user=sam, kind="task.due", title="sam's")
    assert all(mine) and theirs is not None
    me = viewer_of(jane)
    services.mark_read(viewer=me, notification_id=mine[0].pk)  # type: ignore[union-attr]
    assert selectors.unread_count(me) == 2
    with pytest.raises(NotFound):
        services.mark_read(viewer=me, notification_id=theirs.pk)
    assert services.mark_all_read(viewer=me) == 2
    assert selectors.unread_count(me) == 0 and selectors.unread_count(viewer_of(sam)) == 1
    services.mark_read(viewer=me, notification_id=mine[1].pk, read=False)  # type: ignore[union-attr]
    assert selectors.unread_count(me) == 1


def test_send_email_queues_a_plain_email_the_worker_sends(smtp: SmtpServer) -> None:
    job_id = services.send_email(to="ann@client.example", subject="Renewal", body="Hi Ann")
    assert smtp.inbox.messages == []
    worker.run_pending(periodic=False)
    (msg,) = smtp.inbox.messages
    assert (msg["To"], msg["Subject"]) == ("ann@client.example", "Renewal")
    assert "List-Unsubscribe" not in msg
    assert DBTaskResult.objects.get(pk=job_id).status == "SUCCESSFUL"
    with pytest.raises(ValidationError, match="to: 'not an address' is not an email address"):
        services.send_email(to="not an address", subject="x")


def test_send_email_to_a_refusing_server_ends_failed_with_the_reason(
    refusing_smtp: SmtpServer, time_travel: clock.Trip
) -> None:
    job_id = services.send_email(to="ann@client.example", subject="Refused")
    for _ in range(5):
        worker.run_pending(periodic=False)
        time_travel.advance(dt.timedelta(hours=1))
    failed = DBTaskResult.objects.get(pk=job_id)
    assert failed.status == "FAILED" and refusing_smtp.inbox.tries == 5
    assert "gave up after 5 attempts: SMTP server 127.0.0.1" in failed.traceback
    assert "refused: 554 5.7.1 Message refused by policy" in failed.traceback
