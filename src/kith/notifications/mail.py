"""Email through SMTP: ``KITH_SMTP_URL`` and ``KITH_MAIL_FROM``, messages, one send.

``KITH_SMTP_URL`` forms (user and password URL-encoded; ``?timeout=SECONDS``, default 20):

- ``smtp://[user:password@]host[:25]``: plain SMTP (a relay on loopback, a test server);
- ``smtp+starttls://...`` (or ``smtp://...?starttls=1``): SMTP upgraded with STARTTLS,
  refusing to go on in the clear (port 587 by default);
- ``smtps://...``: SMTP over TLS from the first byte (port 465 by default).

The URL is shown and logged only through ``kith.conf.masked_url`` (no password).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from kith.conf import masked_url
from kith.core import clock
from kith.core.errors import ValidationError

DEFAULT_FROM = "Kith <kith@localhost>"
PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to send."""

    host: str
    port: int
    security: str  # "none", "starttls" or "tls"
    user: str = ""
    password: str = ""
    timeout: float = 20.0
    shown: str = ""  # the URL with its password masked

    def __str__(self) -> str:
        return self.shown


def parse_smtp_url(url: str) -> SmtpConfig:
    """Read an SMTP URL (see the module), naming the part that is wrong."""
    shown = masked_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError(f"KITH_SMTP_URL: {shown!r} is not a URL") from None
    scheme = parts.scheme.lower()
    if scheme not in PORTS:
        raise ValidationError(
            f"KITH_SMTP_URL: {shown!r} must start smtp://, smtp+starttls:// or smtps://"
        )
    if not parts.hostname:
        raise ValidationError(f"KITH_SMTP_URL: {shown!r} names no host")
    query = parse_qs(parts.query)
    security = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}[scheme]
    if scheme == "smtp" and query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes"):
        security = "starttls"
    try:
        timeout = float(query.get("timeout", ["20"])[0])
    except ValueError:
        raise ValidationError(f"KITH_SMTP_URL: timeout in {shown!r} is not a number") from None
    if not 0 < timeout <= 600:
        raise ValidationError(f"KITH_SMTP_URL: timeout in {shown!r} must be 0-600 seconds")
    return SmtpConfig(
        host=parts.hostname,
        port=port or PORTS[scheme],
        security=security,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        timeout=timeout,
        shown=shown,
    )


def smtp_config() -> SmtpConfig | None:
    """The configured SMTP server (``KITH_SMTP_URL``), or None when email is not set up."""
    url = os.environ.get("KITH_SMTP_URL", "").strip()
    return parse_smtp_url(url) if url else None


def mail_from() -> str:
    """The sender of Kith's email (``KITH_MAIL_FROM``)."""
    return os.environ.get("KITH_MAIL_FROM", "").strip() or DEFAULT_FROM


def build_message(
    *, to: str, subject: str, text: str, unsubscribe_url: str = "", sender: str | None = None
) -> EmailMessage:
    """A plain-text email; with ``unsubscribe_url``, RFC 8058 one-click unsubscribe headers."""
    msg = EmailMessage()
    frm = sender or mail_from()
    msg["From"] = frm
    msg["To"] = to
    msg["Subject"] = subject.replace("\r", " ").replace("\n", " ")[:200]
    msg["Date"] = format_datetime(clock.now())
    domain = frm.rsplit("@", 1)[-1].strip("> ") or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    return msg


def send(msg: EmailMessage, config: SmtpConfig) -> None:
    """Hand ``msg`` to the server; raises ``smtplib.SMTPException`` or ``OSError`` if not.

    The server has the message exactly when this returns: the SMTP transaction is
    all or nothing.
    """
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if config.security == "tls":
        client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    try:
        client.ehlo()
        if config.security == "starttls":
            client.starttls(context=context)  # raises if the server cannot: never in clear
            client.ehlo()
        if config.user:
            client.login(config.user, config.password)
        client.send_message(msg)
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def describe(exc: BaseException, config: SmtpConfig) -> str:
    """One line saying why a send failed (no password in it)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (0, b""))
        why = f"refused the recipient: {code} {_text(reply)}"
    elif isinstance(exc, smtplib.SMTPResponseException):
        why = f"refused: {exc.smtp_code} {_text(exc.smtp_error)}"
    elif isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        why = f"did not answer within {config.timeout:g} s"
    elif isinstance(exc, ConnectionRefusedError):
        why = "refused the connection"
    else:
        why = f"{type(exc).__name__}: {exc}"
    return f"SMTP server {config.host}:{config.port} {why}"[:300]


def _text(reply: bytes | str) -> str:
    raw = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(raw.split())
