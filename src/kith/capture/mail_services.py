"""Mail capture: connect an IMAP account, sync it incrementally, block senders.

A sync reads each folder by UID from where it stopped (a changed UIDVALIDITY starts the
folder again), fetches a batch over the network and then writes it in one transaction
together with the folder's new position, so a connection dropped half-way leaves every
written batch and its position consistent and the next run resumes after it. Messages go
through the mbox import's mapping (``kith.imports.mail.message_interaction`` and the
import ``Writer``: participants, direction from our domains, threads, organisations from
company domains); the Message-ID is the interaction's external id, so the same message in
two folders or two accounts is one interaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from kith.accounts.selectors import viewer_of
from kith.capture import secrets
from kith.capture.imap import MailError, Session, idle, parse_url
from kith.capture.models import Block, Calendar, MailAccount, MailFolder, Source
from kith.core import clock
from kith.core.errors import Conflict, NotFound, ValidationError
from kith.core.events import publish
from kith.core.ids import new_id
from kith.core.services import audit
from kith.core.viewer import SYSTEM, Viewer
from kith.imports.items import BadRow, InteractionIn
from kith.imports.mail import message_interaction
from kith.imports.writer import FREE_MAIL, Writer
from kith.records.normalize import normalize_email

BATCH = 2_000  # messages fetched and written per transaction (the import's chunk)
MAX_BYTES = 5_000_000  # a bigger message is read as its headers only
MAX_BACKOFF = 6 * 3600
AUTOMATED = re.compile(
    r"^(no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?|notifications?|"
    r"alerts?|automated|auto-?confirm|daemon)([+.\-_].*)?$"
)
_LIST_HEADERS = re.compile(
    rb"(?im)^(list-id|list-unsubscribe|list-post):|^precedence:[ \t]*(bulk|list|junk)"
    rb"|^auto-submitted:[ \t]*auto-"
)

Progress = Callable[[int], None]


def _folders(folders: list[str]) -> list[str]:
    out: list[str] = []
    for name in folders or ["INBOX"]:
        name = name.strip()
        if not name or len(name) > 300 or any(c in name for c in "\r\n\x00"):
            raise ValidationError(f"folder: {name!r} is not a folder name", field="folder")
        if name not in out:
            out.append(name)
    return out


def _since(text: str | None) -> int | None:
    if not text:
        return None
    m = re.fullmatch(r"\s*(\d{1,5})\s*d?\s*", text)
    if m is None or int(m.group(1)) == 0:
        raise ValidationError(
            f"since: {text!r} is not a number of days such as 180d", field="since"
        )
    return int(m.group(1))


@transaction.atomic
def connect_account(
    *,
    url: str,
    secret: str,
    owner: Any = None,
    folders: list[str] | None = None,
    since: str | None = None,
    headers_only: bool = False,
    auth: str = "password",
    skip_personal: bool = False,
    check: bool = True,
) -> MailAccount:
    """Store an account (its secret encrypted); with ``check``, log in first to prove it."""
    endpoint = parse_url(url)
    if auth not in ("password", "xoauth2"):
        raise ValidationError(f"auth: {auth!r} is not password or xoauth2", field="auth")
    if not secret:
        raise ValidationError("password: empty (give it on stdin)", field="password")
    names = _folders(folders or [])
    days = _since(since)
    shown = f"{url.split('://')[0]}://{endpoint.username}@{endpoint.host}:{endpoint.port}"
    if MailAccount.objects.filter(url=shown, owner=owner).exists():
        raise Conflict(f"url: {shown} is connected already", field="url")
    sealed = secrets.seal(secret)
    security = endpoint.security
    if check:
        try:
            with Session(endpoint, secret, auth=auth, timeout=20) as session:
                security = session.security
                for name in names:
                    session.folder(name)
        except MailError as exc:
            raise ValidationError(f"{shown}: {exc.message}", field="url") from None
    account = MailAccount.objects.create(
        id=new_id("mac"),
        owner=owner,
        url=shown,
        username=endpoint.username,
        secret=sealed,
        host=endpoint.host,
        port=endpoint.port,
        security=security,
        auth=auth,
        folders=names,
        since_days=days,
        headers_only=headers_only,
        skip_personal=skip_personal,
    )
    audit("mail.connected", target=account.id, detail={"url": shown, "folders": names})
    return account


def account_for(ref: str, viewer: Viewer) -> MailAccount:
    """An account by id or URL, among those ``viewer`` may see (its owner, admins)."""
    qs = MailAccount.objects.all()
    if not viewer.sees_everything:
        qs = qs.filter(owner_id=viewer.user_id)
    found = (
        list(qs.filter(id=ref)) or list(qs.filter(url=ref)) or list(qs.filter(url__contains=ref))
    )
    if not found:
        raise NotFound(f"account: no mail account {ref!r}", field="account")
    if len(found) > 1:
        raise ValidationError(
            f"account: {ref!r} matches {len(found)} accounts ({', '.join(a.id for a in found)})",
            field="account",
        )
    return found[0]


@transaction.atomic
def disconnect_account(*, account: MailAccount) -> None:
    """Forget an account and its secret; what it captured stays."""
    audit("mail.disconnected", target=account.id, detail={"url": account.url})
    account.delete()


@transaction.atomic
def block(*, value: str, by: str = "") -> Block:
    """Never capture mail from or to this address or domain (``@domain`` or ``domain``)."""
    text = value.strip().lower()
    if "@" in text.lstrip("@"):
        kind, text = "address", normalize_email(text, field="block")
    else:
        kind, text = "domain", text.lstrip("@")
        if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", text):
            raise ValidationError(f"block: {value!r} is not an address or a domain", field="block")
    found, _ = Block.objects.get_or_create(kind=kind, value=text, defaults={"created_by": by})
    audit("mail.blocked", target=f"{kind}:{text}")
    return found


@transaction.atomic
def unblock(*, value: str) -> int:
    text = value.strip().lower().lstrip("@")
    deleted, _ = Block.objects.filter(value=text).delete()
    if not deleted:
        raise NotFound(f"block: {value!r} is not blocked", field="block")
    return deleted


# ----- sync -------------------------------------------------------------------------------
@dataclass
class Filters:
    addresses: set[str]
    domains: set[str]
    skip_personal: bool

    def blocked(self, email: str) -> bool:
        domain = email.rsplit("@", 1)[-1]
        return email in self.addresses or any(
            domain == d or domain.endswith("." + d) for d in self.domains
        )

    def why_excluded(self, raw: bytes, item: InteractionIn) -> str | None:
        """Why a message is left out (automated, a list, a blocked sender), else None;
        blocked and (with skip_personal) personal-domain recipients are dropped."""
        head = raw[: raw.find(b"\n\n") + 1 or len(raw)]
        if _LIST_HEADERS.search(head):
            return "excluded_list"
        sender = item.people[0][0].email
        if AUTOMATED.match(sender.split("@")[0]):
            return "excluded_automated"
        if self.blocked(sender):
            return "excluded_blocked"
        kept = [(p, r) for p, r in item.people if r == "from" or not self.blocked(p.email)]
        if self.skip_personal:
            kept = [
                (p, r)
                for p, r in kept
                if r == "from" or p.email.rsplit("@", 1)[-1] not in FREE_MAIL
            ]
            if sender.rsplit("@", 1)[-1] in FREE_MAIL:
                return "excluded_personal"
        item.people = kept
        return None


@dataclass
class Run:
    counts: Counter[str] = field(default_factory=Counter)
    folders: list[dict[str, Any]] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    wrote: bool = False
    max_bytes: int = MAX_BYTES
    touched: set[str] | None = field(default_factory=set)


def _viewer(account: MailAccount) -> Viewer:
    return viewer_of(account.owner) if account.owner is not None else SYSTEM


def sync_account(
    *,
    account: MailAccount,
    limit: int | None = None,
    batch: int = BATCH,
    progress: Progress | None = None,
    timeout: float = 30.0,
    max_bytes: int = MAX_BYTES,
) -> dict[str, Any]:
    """Sync every folder of ``account`` once; the outcome is kept on the account.

    Raises ``MailError`` after recording it (status, error, back-off) on the account."""
    run = Run(max_bytes=max_bytes)
    started = clock.now()
    try:
        secret = secrets.unseal(account.secret)
    except ValidationError as exc:
        mark_failed(account, MailError(exc.message, retry=False))
        raise MailError(exc.message, retry=False) from None
    blocks = list(Block.objects.values_list("kind", "value"))
    filters = Filters(
        {v for k, v in blocks if k == "address"},
        {v for k, v in blocks if k == "domain"},
        account.skip_personal,
    )
    endpoint = parse_url(account.url)
    viewer = _viewer(account)
    since = clock.today() - dt.timedelta(days=account.since_days) if account.since_days else None
    try:
        with Session(endpoint, secret, auth=account.auth, timeout=timeout) as session:
            for name in account.folders:
                _sync_folder(session, account, name, viewer, filters, since, run, limit,
                             batch, progress)  # fmt: skip
                if limit is not None and run.counts["messages"] >= limit:
                    break
    except MailError as exc:
        _loaded(run)
        mark_failed(account, exc)
        raise
    _loaded(run)
    report = {
        "account": account.id,
        "url": account.url,
        "seconds": round((clock.now() - started).total_seconds(), 3),
        "counts": dict(sorted(run.counts.items())),
        "folders": run.folders,
        "bad": run.bad[:20],
    }
    mark_synced(account, report)
    return report


def _sync_folder(
    session: Session,
    account: MailAccount,
    name: str,
    viewer: Viewer,
    filters: Filters,
    since: dt.date | None,
    run: Run,
    limit: int | None,
    batch: int,
    progress: Progress | None,
) -> None:
    info = session.folder(name)
    state, _ = MailFolder.objects.get_or_create(account=account, name=name)
    reset = state.uidvalidity is not None and state.uidvalidity != info.uidvalidity
    if reset or state.uidvalidity is None:
        # a new folder, or the server renumbered it: read it again from the start (the
        # Message-IDs make re-reading harmless)
        MailFolder.objects.filter(pk=state.pk).update(
            uidvalidity=info.uidvalidity, last_uid=0, highestmodseq=None,
            resets=state.resets + (1 if reset else 0),
        )  # fmt: skip
        state.refresh_from_db()
    summary: dict[str, Any] = {"folder": name, "uidvalidity": info.uidvalidity, "new": 0,
                               "reset": reset}  # fmt: skip
    run.folders.append(summary)
    top = info.uidnext - 1 if info.uidnext else None
    if top is not None and state.last_uid > top:
        raise MailError(
            f"folder {name!r}: the server says UIDNEXT {info.uidnext} but UID "
            f"{state.last_uid} was read already under the same UIDVALIDITY (it lies about UIDs)"
        )
    if top is not None and state.last_uid >= top:
        MailFolder.objects.filter(pk=state.pk).update(
            uidnext=info.uidnext, highestmodseq=info.highestmodseq, error=""
        )
        summary["up_to_date"] = True
        return
    first = state.last_uid == 0
    for window in session.uids(state.last_uid + 1, top, since if first else None):
        for i in range(0, len(window), batch):
            uids = window[i : i + batch]
            if limit is not None:
                room = limit - run.counts["messages"]
                if room <= 0:
                    return
                uids = uids[:room]
            fetched = session.fetch(
                uids, headers_only=account.headers_only, max_bytes=run.max_bytes
            )
            _write_batch(account, state, name, uids[-1], fetched, viewer, filters, run)
            summary["new"] += len(fetched)
            if progress:
                progress(len(fetched))
    MailFolder.objects.filter(pk=state.pk).update(
        uidnext=info.uidnext, highestmodseq=info.highestmodseq, error=""
    )


@transaction.atomic
def _write_batch(
    account: MailAccount,
    state: MailFolder,
    folder: str,
    last_uid: int,
    fetched: list[tuple[int, bytes, bool]],
    viewer: Viewer,
    filters: Filters,
    run: Run,
) -> None:
    """Write one fetched batch and the folder's new position together."""
    items: list[InteractionIn] = []
    for uid, raw, complete in fetched:
        run.counts["messages"] += 1
        result = message_interaction(raw, f"{folder} UID {uid}", bodies=complete)
        if isinstance(result, BadRow):
            run.counts["bad_messages"] += 1
            if len(run.bad) < 100:
                run.bad.append(result.line())
            continue
        why = filters.why_excluded(raw, result)
        if why:
            run.counts[why] += 1
            continue
        result.meta["mailbox"] = {"account": account.id, "folder": folder, "uid": uid}
        items.append(result)
    # a writer per batch: what it caches (people, ids) is in the database once the batch is
    # written, so memory follows the batch, not the mailbox
    writer = Writer(viewer=viewer, source=f"mail:{account.id}", write=lambda: True)
    writer.prefetch([], items)
    for item in items:
        writer.add_interaction(item)
    writer.end_batch()
    for key, n in writer.counts.items():
        run.counts[key] += n
    MailFolder.objects.filter(pk=state.pk).update(last_uid=last_uid, seen=state.seen + len(fetched))
    state.last_uid, state.seen = last_uid, state.seen + len(fetched)
    if items:
        run.wrote = True
        if writer.touched is None or run.touched is None:
            run.touched = None  # our team changed: the subscribers rebuild
        else:
            run.touched |= writer.touched


def _loaded(run: Run) -> None:
    """Tell subscribers once what the sync wrote (as an import does at its end): written
    batches are announced even when a later one failed."""
    if run.wrote:
        with transaction.atomic():
            people = sorted(run.touched) if run.touched is not None else None
            publish("bulk.loaded", counts=dict(run.counts), people=people)


def _backoff(failures: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(60 * 2 ** max(failures - 1, 0), MAX_BACKOFF))


def _model(source: Source) -> type[MailAccount] | type[Calendar]:
    return MailAccount if isinstance(source, MailAccount) else Calendar


def mark_failed(source: Source, exc: MailError | Exception) -> None:
    """Keep a failure on the source: status, the one-line error, the next attempt."""
    message = getattr(exc, "message", None) or str(exc)
    failures = source.failures + 1
    _model(source).objects.filter(pk=source.pk).update(
        status=Source.ERROR,
        last_error=message[:500],
        failures=failures,
        next_attempt_at=clock.now() + _backoff(failures),
    )
    source.refresh_from_db()


def mark_synced(source: Source, report: dict[str, Any]) -> None:
    _model(source).objects.filter(pk=source.pk).update(
        status=Source.OK,
        last_error="",
        failures=0,
        next_attempt_at=None,
        last_sync_at=clock.now(),
        last_counts=report.get("counts", {}),
    )
    source.refresh_from_db()


EVERY = dt.timedelta(minutes=5)
PER_RUN = 50_000  # messages per account per scheduled run; the next run resumes


def due_accounts() -> list[MailAccount]:
    """Accounts whose next sync is due: never synced, past their back-off, or stale."""
    now = clock.now()
    out = []
    for account in MailAccount.objects.select_related("owner").order_by("id"):
        if account.next_attempt_at is not None:
            if account.next_attempt_at <= now:
                out.append(account)
        elif account.last_sync_at is None or account.last_sync_at <= now - EVERY:
            out.append(account)
    return out


def sync_due(*, limit: int | None = PER_RUN) -> dict[str, Any]:
    """Sync every due account once (the worker's schedule); failures stay on the accounts."""
    done: dict[str, Any] = {"synced": [], "failed": []}
    for account in due_accounts():
        try:
            sync_account(account=account, limit=limit)
            done["synced"].append(account.id)
        except MailError as exc:
            done["failed"].append({"account": account.id, "error": exc.message})
    return done


def wait_for_mail(*, account: MailAccount, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for new mail in the account's first folder by IDLE
    (where the server supports it); False at the time-out, without IDLE, or on an error
    (the next sync records errors)."""
    try:
        secret = secrets.unseal(account.secret)
        with Session(parse_url(account.url), secret, auth=account.auth) as session:
            return idle(session, account.folders[0] if account.folders else "INBOX", timeout)
    except (MailError, ValidationError):
        return False
