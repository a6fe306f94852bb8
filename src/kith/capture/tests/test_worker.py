"""The worker syncs due mailboxes on its schedule and backs off from failing ones."""

from __future__ import annotations

import pytest

from kith.capture import jobs as capture_jobs
from kith.capture.mail_services import connect_account
from kith.capture.models import MailAccount
from kith.capture.tests.conftest import message, url
from kith.core import jobs, worker
from kith.interactions.models import Interaction


@pytest.fixture(autouse=True)
def _only_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_PERIODIC_ONLY", "capture")


def test_the_worker_syncs_due_accounts_and_backs_off_from_failing_ones(
    dovecot, mailbox, time_travel
):
    assert capture_jobs.SYNC in {p.name for p in jobs.periodic_jobs()}
    user, pw = mailbox
    dovecot.deliver(user, [message(1), message(2)])
    good = connect_account(url=url(dovecot, user), secret=pw)
    other = "b" + user
    dovecot.add_user(other)
    bad = connect_account(url=url(dovecot, other), secret="wrong", check=False)
    worker.run_pending()
    assert Interaction.objects.count() == 2
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == "ok" and bad.status == "error" and bad.failures == 1
    dovecot.deliver(user, [message(3)])
    time_travel.advance(seconds=30)
    worker.run_pending()
    assert Interaction.objects.count() == 2  # nothing is due yet
    assert MailAccount.objects.get(pk=bad.pk).failures == 1
    time_travel.advance(seconds=60)  # past the bad one's first back-off (60 s)
    worker.run_pending()
    assert MailAccount.objects.get(pk=bad.pk).failures == 2  # retried, failed again
    assert Interaction.objects.count() == 2
    time_travel.advance(seconds=300)
    worker.run_pending()
    assert Interaction.objects.count() == 3
    bad.refresh_from_db()
    assert bad.failures == 3 and "wrong user name or password" in bad.last_error
