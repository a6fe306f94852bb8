"""A mailbox and a calendar are their owner's: other members see neither, through any
interface, and a sync never writes into another user's private record."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_user, create_token, set_private
from kith.capture.calendar_services import subscribe
from kith.capture.mail_services import account_for, connect_account, sync_account
from kith.capture.tests.conftest import message, url
from kith.core.errors import NotFound
from kith.interactions.models import Participant
from kith.records.models import ContactPoint
from kith.testing import make_person

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_RATE_LIMIT", "0")


def _web(email: str) -> Client:
    client = Client()
    client.force_login(get_user(email))
    return client


def _api(email: str, path: str) -> dict:
    _, secret = create_token(email=email)
    resp = Client().get(f"/api/v1{path}", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert resp.status_code == 200, resp.content
    return json.loads(resp.content)


def test_only_the_owner_and_admins_see_an_account(dovecot, mailbox, cli):
    for email, role in (("ann@our.test", "member"), ("bob@our.test", "member"),
                        ("root@our.test", "admin")):  # fmt: skip
        add_user(email=email, role=role, password=PASSWORD)
    user, pw = mailbox
    account = connect_account(url=url(dovecot, user), secret=pw, owner=get_user("ann@our.test"))
    cal = subscribe(url="https://cal.example.com/ann.ics", owner=get_user("ann@our.test"))
    for email, sees in (("ann@our.test", True), ("bob@our.test", False), ("root@our.test", True)):
        mail = _api(email, "/capture/mail")["accounts"]
        cals = _api(email, "/capture/calendars")["calendars"]
        assert ([a["id"] for a in mail] == [account.id]) is sees, email
        assert ([c["id"] for c in cals] == [cal.id]) is sees, email
        page = _web(email).get("/capture").content.decode()
        assert (account.url in page) is sees and ("ann.ics" in page) is sees, email
        code, out, _ = cli("mail", "list", "--user", email, "--json")
        assert code == 0 and (account.id in out) is sees, email
        code, out, _ = cli("calendar", "list", "--user", email, "--json")
        assert code == 0 and (cal.id in out) is sees, email
    with pytest.raises(NotFound):
        account_for(account.id, viewer_of(get_user("bob@our.test")))
    code, _, err = cli("mail", "sync", account.id, "--once", "--user", "bob@our.test")
    assert code == 1 and f"no mail account {account.id!r}" in err
    code, _, err = cli("mail", "disconnect", account.url, "--user", "bob@our.test")
    assert code == 1 and "no mail account" in err


def test_a_sync_never_writes_into_another_users_private_record(dovecot, mailbox):
    add_user(email="ann@our.test", role="member", password=PASSWORD)
    add_user(email="carl@our.test", role="member", password=PASSWORD)
    secret_jane = make_person("Jane Secret", email="jane@acme.test")
    set_private(record=secret_jane, private=True, user=get_user("carl@our.test"))
    user, pw = mailbox
    dovecot.deliver(user, [message(1)])
    account = connect_account(url=url(dovecot, user), secret=pw, owner=get_user("ann@our.test"))
    sync_account(account=account)
    sender = Participant.objects.get(role="from").record
    assert sender.id != secret_jane.id  # Ann's mail made its own Jane, visible to her
    assert ContactPoint.objects.filter(normalized="jane@acme.test").count() == 2
    assert not Participant.objects.filter(record=secret_jane).exists()
