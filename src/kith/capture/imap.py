"""An IMAP client for capture (stdlib ``imaplib``): connect, examine a folder, fetch by UID.

Every failure becomes a :class:`MailError` with one line that names what went wrong and
never the secret; ``retry`` says whether trying again later may help.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import ipaddress
import re
import select
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from kith.core.errors import KithError, ValidationError

DEFAULT_PORTS = {"imaps": 993, "imap": 143}
SEARCH_WINDOW = 20_000  # UIDs asked per SEARCH: one reply line stays small
_FETCH_HEAD = re.compile(rb"^\d+ \(.*?\bUID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class MailError(KithError):
    """A sync failure in one line; ``retry`` False when only the user can fix it."""

    code = "sync_failed"

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message, field="sync")
        self.retry = retry


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    security: str  # tls, starttls, plain
    username: str


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_url(url: str) -> Endpoint:
    """``imaps://USER@HOST[:PORT]`` or ``imap://USER@HOST[:PORT]`` (STARTTLS, or plaintext
    to loopback only)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"url: {url!r} is not an IMAP URL ({exc})", field="url") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise ValidationError(
            f"url: {url!r} must start with imaps:// or imap://", field="url"
        ) from None
    if not parts.hostname:
        raise ValidationError(f"url: {url!r} names no host", field="url")
    if not parts.username:
        raise ValidationError(f"url: {url!r} names no user (imaps://USER@HOST)", field="url")
    if parts.password:
        raise ValidationError("url: put no password in the URL (use --password-stdin)", field="url")
    security = "tls" if parts.scheme == "imaps" else "starttls"
    return Endpoint(
        host=parts.hostname,
        port=port or DEFAULT_PORTS[parts.scheme],
        security=security,
        username=unquote(parts.username),
    )


def quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class FolderInfo:
    name: str
    uidvalidity: int
    uidnext: int | None
    highestmodseq: int | None
    exists: int


class Session:
    """One logged-in connection; use as a context manager."""

    def __init__(
        self, endpoint: Endpoint, secret: str, *, auth: str = "password", timeout: float = 30.0
    ) -> None:
        self.endpoint = endpoint
        self._secret = secret
        self.auth = auth
        self.timeout = timeout
        self.conn: imaplib.IMAP4 | None = None
        self.condstore = False
        self.security = endpoint.security

    def __enter__(self) -> Session:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def where(self) -> str:
        return f"{self.endpoint.host}:{self.endpoint.port}"

    def open(self) -> None:
        ep = self.endpoint
        try:
            if ep.security == "tls":
                self.conn = imaplib.IMAP4_SSL(
                    ep.host, ep.port, ssl_context=ssl.create_default_context(), timeout=self.timeout
                )
            else:
                self.conn = imaplib.IMAP4(ep.host, ep.port, timeout=self.timeout)
                if "STARTTLS" in self.conn.capabilities:
                    self.conn.starttls(ssl.create_default_context())
                elif is_loopback(ep.host):
                    self.security = "plain"
                else:
                    raise MailError(
                        f"{self.where} offers no STARTTLS: plaintext IMAP is allowed to "
                        "loopback only (use imaps://)",
                        retry=False,
                    )
        except ssl.SSLCertVerificationError as exc:
            raise MailError(
                f"certificate error from {self.where}: {exc.verify_message}", retry=False
            ) from None
        except ssl.SSLError as exc:
            raise MailError(f"TLS failed with {self.where}: {exc.reason}") from None
        except (socket.gaierror, ConnectionRefusedError, TimeoutError, OSError) as exc:
            raise MailError(f"cannot reach {self.where}: {exc.strerror or exc}") from None
        except imaplib.IMAP4.error as exc:
            raise MailError(f"{self.where} is not an IMAP server: {exc}") from None
        self._login()
        caps = set(self.conn.capabilities)
        if "CONDSTORE" in caps and "ENABLE" in caps:
            self._call(self.conn.enable, "CONDSTORE")
            self.condstore = True

    def _login(self) -> None:
        assert self.conn is not None
        user, secret = self.endpoint.username, self._secret
        try:
            if self.auth == "xoauth2":
                blob = f"user={user}\x01auth=Bearer {secret}\x01\x01".encode()
                self.conn.authenticate("XOAUTH2", lambda _: blob)
            else:
                self.conn.login(user, secret)
        except imaplib.IMAP4.abort as exc:
            raise MailError(f"{self.where} dropped the connection at login: {exc}") from None
        except imaplib.IMAP4.error:
            what = "token" if self.auth == "xoauth2" else "password"
            raise MailError(
                f"{self.where} refused the login of {user!r}: wrong user name or {what}",
                retry=False,
            ) from None
        except OSError as exc:
            raise MailError(f"{self.where} dropped the connection at login: {exc}") from None

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                self.conn.logout()
            self.conn = None

    def _call(self, fn, *args: str) -> tuple[str, list[object]]:  # type: ignore[no-untyped-def]
        try:
            typ, data = fn(*args)
        except imaplib.IMAP4.abort as exc:
            raise MailError(f"{self.where} dropped the connection: {exc}") from None
        except imaplib.IMAP4.error as exc:
            raise MailError(f"{self.where} refused {args[:1]}: {exc}") from None
        except (OSError, EOFError) as exc:
            raise MailError(f"{self.where} dropped the connection: {exc}") from None
        return str(typ), list(data)

    def folder(self, name: str) -> FolderInfo:
        """Examine (read-only select) a folder: its UIDVALIDITY, UIDNEXT and MODSEQ."""
        assert self.conn is not None
        try:
            typ, data = self.conn.select(quote(name), readonly=True)
        except imaplib.IMAP4.abort as exc:
            raise MailError(f"{self.where} dropped the connection: {exc}") from None
        except (OSError, EOFError) as exc:
            raise MailError(f"{self.where} dropped the connection: {exc}") from None
        except imaplib.IMAP4.error as exc:
            raise MailError(f"folder {name!r}: {exc}") from None
        if typ != "OK":
            text = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
            raise MailError(f"folder {name!r} does not exist on the server ({text})")
        resp = self.conn.untagged_responses

        def number(key: str) -> int | None:
            values = resp.get(key) or []
            try:
                last = values[-1] if values else None
                return int(last) if isinstance(last, (bytes, str)) else None
            except (TypeError, ValueError):
                return None

        validity = number("UIDVALIDITY")
        if validity is None:
            raise MailError(f"folder {name!r}: the server sent no UIDVALIDITY")
        modseq = number("HIGHESTMODSEQ")
        if modseq is None:
            for line in resp.get("OK", []):
                m = re.search(rb"\[HIGHESTMODSEQ (\d+)\]", line if isinstance(line, bytes) else b"")
                if m:
                    modseq = int(m.group(1))
        return FolderInfo(name, validity, number("UIDNEXT"), modseq, number("EXISTS") or 0)

    def uids(self, low: int, high: int | None, since: dt.date | None) -> Iterator[list[int]]:
        """The UIDs from ``low`` (to ``high``), a window at a time, in order."""
        assert self.conn is not None
        start = low
        while high is None or start <= high:
            end = start + SEARCH_WINDOW - 1
            top = "*" if high is None else str(min(end, high))
            criteria = [f"UID {start}:{top}"]
            if since is not None:
                criteria.append("SINCE " + since.strftime("%d-%b-%Y"))
            typ, data = self._call(self.conn.uid, "SEARCH", *criteria)
            if typ != "OK":
                raise MailError(f"{self.where} refused SEARCH: {data}")
            found = sorted(
                int(x) for d in data if isinstance(d, bytes) for x in d.split() if x.isdigit()
            )
            found = [u for u in found if u >= start]  # "n:*" may name the last one below n
            if high is not None:
                for u in found:
                    if u > min(end, high):
                        raise MailError(f"the server returned UID {u} outside {start}:{top}")
            if found:
                yield found
            if high is None:
                if not found:
                    return
                start = found[-1] + 1
            else:
                start = end + 1

    def fetch(
        self, uids: list[int], *, headers_only: bool, max_bytes: int
    ) -> list[tuple[int, bytes, bool]]:
        """(uid, raw, complete) of the asked UIDs; a message over ``max_bytes`` (or any in
        headers-only mode) comes as its headers only (``complete`` False)."""
        assert self.conn is not None
        wanted = set(uids)
        spec = f"{uids[0]}:{uids[-1]}"
        big: set[int] = set()
        if not headers_only:
            _typ, data = self._call(self.conn.uid, "FETCH", spec, "(UID RFC822.SIZE)")
            for line in data:
                if isinstance(line, bytes):
                    m, s = _FETCH_HEAD.match(line), _SIZE.search(line)
                    if m and s and int(s.group(1)) > max_bytes:
                        big.add(int(m.group(1)))
        item = "BODY.PEEK[HEADER]" if headers_only else "BODY.PEEK[]"
        out = self._fetch(spec, item, wanted - big if not headers_only else wanted, True)
        if big:
            out += self._fetch(spec, "BODY.PEEK[HEADER]", big, False)
            out.sort()
        return [(u, raw, complete and not headers_only) for u, raw, complete in out]

    def _fetch(
        self, spec: str, item: str, wanted: set[int], complete: bool
    ) -> list[tuple[int, bytes, bool]]:
        assert self.conn is not None
        if not wanted:
            return []
        typ, data = self._call(self.conn.uid, "FETCH", spec, f"(UID {item})")
        if typ != "OK":
            raise MailError(f"{self.where} refused FETCH {spec}: {data}")
        low, high = (int(x) for x in spec.split(":"))
        out: list[tuple[int, bytes, bool]] = []
        for part in data:
            if not isinstance(part, tuple):
                continue
            m = _FETCH_HEAD.match(part[0])
            if m is None:
                continue
            uid = int(m.group(1))
            if not low <= uid <= high:
                raise MailError(f"the server returned UID {uid} outside {spec}")
            if uid in wanted:
                out.append((uid, part[1].replace(b"\r\n", b"\n"), complete))
        return out


def idle(session: Session, folder: str, timeout: float) -> bool:
    """Wait in IDLE (RFC 2177) on ``folder`` up to ``timeout`` seconds; True as soon as the
    server announces new mail (EXISTS), False at the time-out or without IDLE."""
    conn = session.conn
    if conn is None or "IDLE" not in conn.capabilities:
        return False
    session.folder(folder)
    tag = conn._new_tag()  # imaplib has no IDLE before Python 3.14
    sock = conn.socket()
    deadline = time.monotonic() + timeout
    news = False
    try:
        conn.send(tag + b" IDLE\r\n")
        if not conn.readline().startswith(b"+"):
            raise MailError(f"{session.where} refused IDLE")
        while not news:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                break
            line = conn.readline()
            if not line:
                raise MailError(f"{session.where} dropped the connection in IDLE")
            news = line.rstrip().endswith(b"EXISTS")
        conn.send(b"DONE\r\n")
        while True:
            line = conn.readline()
            if not line:
                raise MailError(f"{session.where} dropped the connection in IDLE")
            if line.startswith(tag):
                return news
            news = news or line.rstrip().endswith(b"EXISTS")
    except (OSError, EOFError) as exc:
        raise MailError(f"{session.where} dropped the connection in IDLE: {exc}") from None
