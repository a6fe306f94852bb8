"""Mail capture against a real Dovecot on loopback."""

from __future__ import annotations

import imaplib
import io
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kith.capture.imap import MailError
from kith.capture.mail_services import block, connect_account, sync_account, wait_for_mail
from kith.capture.models import MailAccount, MailFolder
from kith.capture.selectors import mail_accounts
from kith.capture.tests.conftest import message, url
from kith.capture.tests.servers import CuttingProxy, Dovecot, start_dovecot
from kith.core.models import AuditEvent
from kith.core.viewer import SYSTEM
from kith.interactions.models import Interaction, Participant
from kith.records.models import ContactPoint
from kith.relationships.models import Relationship
from kith.testing import make_home


def _connect(dovecot: Dovecot, user: str, pw: str, **kw: object) -> MailAccount:
    return connect_account(url=url(dovecot, user), secret=pw, **kw)  # type: ignore[arg-type]


def test_first_sync_maps_messages_as_the_mbox_import_does(dovecot, mailbox):
    make_home(domain="our.test")
    user, pw = mailbox
    dovecot.deliver(user, [message(1), message(2, frm="bob@beta.test", msgid="m2@beta.test",
                                               extra="In-Reply-To: <m1@acme.test>\n"
                                               "References: <m1@acme.test>\n")])  # fmt: skip
    dovecot.deliver(
        user,
        [message(3, frm="me@our.test", to="jane@acme.test", msgid="m3@our.test"), message(1)],
        folder="Sent",
    )
    account = _connect(dovecot, user, pw, folders=["INBOX", "Sent"])
    report = sync_account(account=account)
    assert report["counts"]["messages"] == 4
    assert report["counts"]["interactions_created"] == 3  # <m1> is in both folders: once
    assert report["counts"]["interactions_already_there"] == 1
    m1 = Interaction.objects.get(external_id="<m1@acme.test>")
    assert m1.kind == "email" and m1.direction == "in" and m1.subject == "message 1"
    assert m1.body == "Hello there.\n"  # bodies kept unless --headers-only
    assert m1.source == f"mail:{account.id}"
    assert Interaction.objects.get(external_id="<m3@our.test>").direction == "out"
    assert Interaction.objects.get(external_id="<m2@beta.test>").thread_id == "<m1@acme.test>"
    jane = ContactPoint.objects.get(kind="email", normalized="jane@acme.test").record
    works = Relationship.objects.get(from_record=jane, type_id="works_at")
    assert works.to_record.name == "Acme"
    assert Participant.objects.filter(interaction=m1, record=jane, role="from").exists()
    account.refresh_from_db()
    assert account.status == "ok" and account.last_sync_at is not None
    states = {f.name: f for f in MailFolder.objects.filter(account=account)}
    assert states["INBOX"].last_uid == 2 and states["Sent"].last_uid == 2

    again = sync_account(account=account)
    assert again["counts"].get("messages", 0) == 0
    assert all(f["up_to_date"] for f in again["folders"])
    assert Interaction.objects.count() == 3


def test_incremental_sync_reads_only_new_messages(dovecot, mailbox):
    user, pw = mailbox
    dovecot.deliver(user, [message(n) for n in range(5)])
    account = _connect(dovecot, user, pw, headers_only=True)
    assert sync_account(account=account)["counts"]["messages"] == 5
    dovecot.deliver(user, [message(n) for n in range(5, 8)])
    report = sync_account(account=account)
    assert report["counts"]["messages"] == 3
    assert Interaction.objects.count() == 8
    assert set(Interaction.objects.values_list("body", flat=True)) == {""}  # headers only


def test_the_same_message_in_two_accounts_is_one_interaction(dovecot, mailbox):
    user, pw = mailbox
    other = "o" + user
    pw2 = dovecot.add_user(other)
    dovecot.deliver(user, [message(1)])
    dovecot.deliver(other, [message(1), message(2)])
    sync_account(account=_connect(dovecot, user, pw))
    report = sync_account(account=_connect(dovecot, other, pw2))
    assert report["counts"]["interactions_already_there"] == 1
    assert Interaction.objects.filter(external_id="<m1@acme.test>").count() == 1
    assert Interaction.objects.count() == 2


def test_a_changed_uidvalidity_reads_the_folder_again_without_duplicates(dovecot, mailbox):
    user, pw = mailbox
    dovecot.deliver(user, [message(n) for n in range(3)])
    account = _connect(dovecot, user, pw)
    sync_account(account=account)
    before = MailFolder.objects.get(account=account, name="INBOX").uidvalidity
    # Dovecot renumbers a folder whose UID list is gone: a new UIDVALIDITY (the time)
    time.sleep(1.1)
    box = dovecot.maildir(user)
    for name in box.iterdir():
        if name.name.startswith("dovecot"):
            name.unlink() if name.is_file() else shutil.rmtree(name)
    dovecot.deliver(user, [message(9)])
    report = sync_account(account=account)
    state = MailFolder.objects.get(account=account, name="INBOX")
    assert state.uidvalidity != before and state.resets == 1
    assert report["folders"][0]["reset"] is True
    assert report["counts"]["interactions_already_there"] == 3
    assert Interaction.objects.count() == 4


def test_a_message_deleted_and_appended_again_stays_one(dovecot, mailbox):
    user, pw = mailbox
    dovecot.deliver(user, [message(1), message(2)])
    account = _connect(dovecot, user, pw)
    sync_account(account=account)
    conn = imaplib.IMAP4("127.0.0.1", dovecot.port)
    conn.login(user, pw)
    conn.select("INBOX")
    conn.uid("STORE", "1", "+FLAGS", "(\\Deleted)")
    conn.expunge()
    conn.append("INBOX", "", imaplib.Time2Internaldate(0), message(1).replace(b"\n", b"\r\n"))
    conn.logout()
    report = sync_account(account=account)
    assert report["counts"]["messages"] == 1
    assert report["counts"]["interactions_already_there"] == 1
    assert Interaction.objects.count() == 2
    assert MailFolder.objects.get(account=account).last_uid == 3


def test_a_wrong_password_is_a_clear_error_and_the_status_says_so(dovecot, mailbox, cli):
    user, _ = mailbox
    with pytest.raises(Exception, match=r"refused the login of .*wrong user name or password"):
        _connect(dovecot, user, "nope")
    assert not MailAccount.objects.exists()
    account = _connect(dovecot, user, "changed", check=False)  # the password changed since
    with pytest.raises(MailError, match="wrong user name or password"):
        sync_account(account=account)
    account.refresh_from_db()
    assert account.status == "error" and account.failures == 1
    assert "wrong user name or password" in account.last_error
    assert account.next_attempt_at is not None
    code, out, _ = cli("mail", "list", "--json")
    assert code == 0
    row = json.loads(out)["accounts"][0]
    assert row["status"] == "error" and "wrong user name" in row["error"]
    assert "changed" not in out


def test_an_unreachable_host_and_a_vanished_folder_are_clear_errors(dovecot, mailbox):
    user, pw = mailbox
    with pytest.raises(Exception, match=r"cannot reach 127\.0\.0\.1:1"):
        connect_account(url=f"imap://{user}@127.0.0.1:1", secret=pw)
    with pytest.raises(Exception, match="folder 'Nowhere' does not exist"):
        _connect(dovecot, user, pw, folders=["Nowhere"])
    dovecot.maildir(user, "Projects")
    dovecot.chown()
    account = _connect(dovecot, user, pw, folders=["Projects"])
    shutil.rmtree(dovecot.maildir(user, "Projects"))
    with pytest.raises(MailError, match="folder 'Projects' does not exist"):
        sync_account(account=account)
    account.refresh_from_db()
    assert account.status == "error"


def test_plaintext_imap_is_refused_beyond_loopback():
    with pytest.raises(Exception, match="must start with imaps:// or imap://"):
        connect_account(url="pop3://a@example.com", secret="x")
    with pytest.raises(Exception, match="no password in the URL"):
        connect_account(url="imaps://a:secret@example.com", secret="x")


def test_malformed_messages_are_skipped_and_named(dovecot, mailbox):
    user, pw = mailbox
    dovecot.deliver(user, [message(1), b"Subject: no sender\nDate: nope\n\nx\n", message(2)])
    report = sync_account(account=_connect(dovecot, user, pw))
    assert report["counts"]["bad_messages"] == 1
    assert "INBOX UID 2" in report["bad"][0] and "no valid sender" in report["bad"][0]
    assert Interaction.objects.count() == 2


def test_exclusions_lists_automated_senders_and_blocks(dovecot, mailbox):
    user, pw = mailbox
    block(value="@spam.test")
    block(value="cc-me@acme.test")
    dovecot.deliver(user, [
        message(1, extra="List-Id: <news.acme.test>\n"),
        message(2, frm="no-reply@acme.test"),
        message(3, frm="x@spam.test"),
        message(4, to="me@our.test, cc-me@acme.test"),
        message(5, frm="pal@gmail.com"),
    ])  # fmt: skip
    account = _connect(dovecot, user, pw, skip_personal=True)
    report = sync_account(account=account)
    c = report["counts"]
    assert (c["excluded_list"], c["excluded_automated"], c["excluded_blocked"]) == (1, 1, 1)
    assert c["excluded_personal"] == 1
    kept = Interaction.objects.get()
    assert kept.external_id == "<m4@acme.test>"
    emails = set(
        ContactPoint.objects.filter(record__participations__interaction=kept).values_list(
            "normalized", flat=True
        )
    )
    assert "cc-me@acme.test" not in emails and "jane@acme.test" in emails


def test_credentials_are_stored_encrypted_and_never_logged(dovecot, mailbox, monkeypatch):
    user, pw = mailbox
    account = _connect(dovecot, user, pw)
    stored = MailAccount.objects.values_list("secret", flat=True).get(pk=account.pk)
    assert pw not in stored and stored
    assert all(pw not in json.dumps(a.detail) for a in AuditEvent.objects.all())
    assert pw not in json.dumps(mail_accounts(SYSTEM))
    monkeypatch.delenv("KITH_CAPTURE_KEY")
    with pytest.raises(MailError, match="KITH_CAPTURE_KEY is not set"):
        sync_account(account=account)
    monkeypatch.setenv("KITH_CAPTURE_KEY", "S" * 43 + "=")
    with pytest.raises(MailError, match="do not open with this KITH_CAPTURE_KEY"):
        sync_account(account=account)


def test_the_cli_connects_syncs_lists_and_disconnects(dovecot, mailbox, cli, monkeypatch):
    user, pw = mailbox
    dovecot.deliver(user, [message(1), message(2)])
    monkeypatch.setattr("sys.stdin", io.StringIO(pw + "\n"))
    code, out, err = cli("mail", "connect", url(dovecot, user), "--password-stdin",
                         "--headers-only", "--json")  # fmt: skip
    assert code == 0, err
    acc = json.loads(out)
    assert acc["headers_only"] is True and acc["status"] == "never"
    code, out, err = cli("mail", "sync", "--once", "--json")
    assert code == 0, err
    assert json.loads(out)["accounts"][0]["counts"]["interactions_created"] == 2
    code, out, _ = cli("mail", "sync", acc["id"], "--once")
    assert code == 0 and "up to date" in out
    code, out, _ = cli("mail", "list")
    assert acc["id"] in out and "ok" in out
    code, out, err = cli("mail", "connect", url(dovecot, user))
    assert code == 1 and "error: password: give it with --password-stdin" in err
    code, out, err = cli("mail", "connect", "imap://127.0.0.1", "--password-stdin")
    assert code == 1 and "names no user" in err
    code, out, _ = cli("mail", "disconnect", acc["id"], "--json")
    assert code == 0 and json.loads(out)["disconnected"] == acc["id"]
    assert Interaction.objects.count() == 2  # what it captured stays


def test_a_connection_dropped_mid_sync_leaves_a_consistent_state_and_resumes(dovecot, mailbox):
    user, pw = mailbox
    dovecot.deliver(user, [message(n) for n in range(50)])
    proxy = CuttingProxy(dovecot.port, cut=6000)
    try:
        account = connect_account(
            url=f"imap://{user}@127.0.0.1:{proxy.port}", secret=pw, check=False
        )
        with pytest.raises(MailError, match="dropped the connection"):
            sync_account(account=account, batch=10)
        assert proxy.cuts == 1
        state = MailFolder.objects.get(account=account)
        written = Interaction.objects.count()
        # every written batch and the folder's position agree; the cut batch wrote nothing
        assert 0 < state.last_uid < 50 and state.last_uid % 10 == 0
        assert written == state.last_uid
        account.refresh_from_db()
        assert account.status == "error" and "dropped the connection" in account.last_error
        report = sync_account(account=account, batch=10)
        assert report["counts"]["messages"] == 50 - written
        assert report["counts"].get("interactions_already_there", 0) == 0
        assert Interaction.objects.count() == 50
        assert MailFolder.objects.get(account=account).last_uid == 50
        account.refresh_from_db()
        assert account.status == "ok" and account.failures == 0
    finally:
        proxy.close()


@pytest.mark.slow
def test_a_mailbox_of_ten_thousand_messages_in_four_folders(dovecot, mailbox):
    make_home(domain="our.test")
    user, pw = mailbox
    folders = ["INBOX", "Sent", "Archive", "Clients"]
    for f, name in enumerate(folders):
        batch = [
            message(n, frm=f"p{n % 700}@c{n % 90}.test", to="me@our.test", msgid=f"big{n}@x.test")
            for n in range(f * 2500, (f + 1) * 2500)
        ]
        if name == "Sent":  # 300 copies of INBOX messages: the same Message-IDs
            batch[:300] = [message(n, msgid=f"big{n}@x.test") for n in range(300)]
        dovecot.deliver(user, batch, folder=name)
    account = _connect(dovecot, user, pw, folders=folders, headers_only=True)
    report = sync_account(account=account)
    assert report["counts"]["messages"] == 10_000
    assert report["counts"]["interactions_created"] == 9_700
    assert report["counts"]["interactions_already_there"] == 300
    assert Interaction.objects.count() == 9_700
    assert {
        f.name: f.last_uid for f in MailFolder.objects.filter(account=account)
    } == dict.fromkeys(folders, 2500)
    again = sync_account(account=account)
    assert all(f.get("up_to_date") for f in again["folders"])
    assert again["counts"].get("messages", 0) == 0


def test_condstore_positions_are_kept_and_big_messages_come_as_headers(dovecot, mailbox):
    user, pw = mailbox
    big = message(2, body="x" * 2_000 + "\n")
    dovecot.deliver(user, [message(1), big])
    account = _connect(dovecot, user, pw)
    sync_account(account=account, max_bytes=1_000)
    state = MailFolder.objects.get(account=account)
    assert state.highestmodseq is not None and state.uidnext == 3  # Dovecot offers CONDSTORE
    bodies = dict(Interaction.objects.values_list("external_id", "body"))
    assert bodies == {"<m1@acme.test>": "Hello there.\n", "<m2@acme.test>": ""}


def test_since_reads_only_recent_mail_on_the_first_sync(dovecot, mailbox):
    user, pw = mailbox
    dovecot.deliver(user, [message(1), message(2)])
    old = next((dovecot.maildir(user) / "new").iterdir())  # Maildir: the file's time is
    os.utime(old, (time.time() - 400 * 86_400,) * 2)  # the message's INTERNALDATE
    account = _connect(dovecot, user, pw, since="180d")
    report = sync_account(account=account)
    assert report["counts"]["messages"] == 1


def test_a_server_that_goes_back_on_its_uids_is_an_error(dovecot, mailbox):
    user, pw = mailbox
    dovecot.deliver(user, [message(1)])
    account = _connect(dovecot, user, pw)
    sync_account(account=account)
    MailFolder.objects.filter(account=account).update(last_uid=40)  # what it told us before
    with pytest.raises(MailError, match="it lies about UIDs"):
        sync_account(account=account)
    account.refresh_from_db()
    assert account.status == "error" and "UIDNEXT 2" in account.last_error


@pytest.fixture
def tls_dovecot() -> Iterator[Dovecot]:
    base = Path(tempfile.mkdtemp(prefix="kith-dovecot-tls-"))
    os.chmod(base, 0o755)
    server = start_dovecot(base, tls=True)
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


def test_a_certificate_the_system_does_not_trust_is_a_clear_error(tls_dovecot):
    dovecot = tls_dovecot
    user, pw = "tls", dovecot.add_user("tls")
    with pytest.raises(Exception, match="certificate error"):  # STARTTLS on the plain port
        connect_account(url=url(dovecot, user), secret=pw)
    with pytest.raises(Exception, match=r"certificate error from 127\.0\.0\.1:\d+: self.signed"):
        connect_account(url=f"imaps://{user}@127.0.0.1:{dovecot.tls_port}", secret=pw)
    account = connect_account(
        url=f"imaps://{user}@127.0.0.1:{dovecot.tls_port}", secret=pw, check=False
    )
    with pytest.raises(MailError, match="certificate error"):
        sync_account(account=account)
    account.refresh_from_db()
    assert account.status == "error" and "certificate" in account.last_error


def test_idle_wakes_on_new_mail_and_times_out_without(dovecot, mailbox):
    user, pw = mailbox
    account = _connect(dovecot, user, pw)
    started = time.monotonic()
    assert wait_for_mail(account=account, timeout=1) is False
    assert time.monotonic() - started >= 1
    woke: list[bool] = []
    waiting = threading.Thread(target=lambda: woke.append(wait_for_mail(account=account,
                                                                        timeout=20)))  # fmt: skip
    started = time.monotonic()
    waiting.start()
    time.sleep(1.0)
    other = imaplib.IMAP4("127.0.0.1", dovecot.port)
    other.login(user, pw)
    other.append("INBOX", "", imaplib.Time2Internaldate(0), message(7).replace(b"\n", b"\r\n"))
    other.logout()
    waiting.join(25)
    assert woke == [True] and time.monotonic() - started < 15
