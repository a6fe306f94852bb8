"""Real peers on loopback for the capture tests: Dovecot (IMAP) and Radicale (CalDAV).

Each starts on a free port under a temporary directory and stops with its fixture. A
missing server is a skip, except under CI=true where it is a failure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import http.server
import os
import pwd
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def missing(what: str) -> None:
    """Fail under CI, skip elsewhere."""
    message = f"{what} is not installed (scripts/install-servers installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class Dovecot:
    """A running Dovecot: any user name, password ``pw-<user>``, mail in ``root/<user>/Maildir``."""

    port: int
    root: Path
    uid: int
    gid: int
    proc: subprocess.Popen[bytes]
    tls_port: int
    counter: int = 0

    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        base = self.root / user / "Maildir"
        path = base if folder == "INBOX" else base / f".{folder}"
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        return path

    def deliver(self, user: str, messages: list[bytes], folder: str = "INBOX") -> None:
        """Drop messages straight into a Maildir folder (Dovecot assigns their UIDs)."""
        path = self.maildir(user, folder)
        for raw in messages:
            self.counter += 1
            name = f"{int(time.time())}.M{self.counter}P{os.getpid()}.kith"
            (path / "new" / name).write_bytes(raw)
        self.chown()

    def chown(self) -> None:
        if os.getuid() == 0:
            for dirpath, dirnames, filenames in os.walk(self.root):
                for name in [*dirnames, *filenames]:
                    os.chown(os.path.join(dirpath, name), self.uid, self.gid)

    def add_user(self, user: str) -> str:
        """A mailbox for a new user; every user's password is ``pw-<user>``."""
        self.maildir(user)
        self.chown()
        return f"pw-{user}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def self_signed(cert: Path, key: Path) -> None:
    """A self-signed certificate for 127.0.0.1 (no client trusts it: a certificate error)."""
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kith-test")])
    now = dt.datetime.now(dt.UTC)  # noqa: TID251 - a certificate's real validity
    made = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(private.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .sign(private, hashes.SHA256())
    )  # fmt: skip
    cert.write_bytes(made.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    os.chmod(key, 0o600)


def start_dovecot(base: Path, *, tls: bool = False) -> Dovecot:
    """Dovecot listening on 127.0.0.1 only, plaintext auth allowed (loopback), CONDSTORE on."""
    if not os.path.exists(DOVECOT):
        missing("dovecot (Debian's dovecot-imapd)")
    # Dovecot refuses mail processes as root: then its own user reads the mail
    account = pwd.getpwnam("dovecot") if os.getuid() == 0 else pwd.getpwuid(os.getuid())
    root = base / "mail"
    root.mkdir(parents=True, exist_ok=True)
    run = base / "run"
    run.mkdir(exist_ok=True)
    port, tls_port = free_port(), free_port()
    ssl = "ssl = no"
    if tls:  # TLS on its own port, and STARTTLS offered on the plain one
        self_signed(base / "cert.pem", base / "key.pem")
        ssl = f"ssl = yes\nssl_cert = <{base}/cert.pem\nssl_key = <{base}/key.pem"
    conf = base / "dovecot.conf"
    conf.write_text(
        f"""
protocols = imap
listen = 127.0.0.1
base_dir = {run}
state_dir = {run}/state
instance_name = kith-test-{port}
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
first_valid_uid = {min(account.pw_uid, 100)}
default_internal_user = {account.pw_name}
default_internal_group = {pwd.getpwuid(account.pw_uid).pw_name if False else account.pw_name}
default_login_user = {account.pw_name}
mail_location = maildir:~/Maildir
mail_plugins = $mail_plugins
imap_capability = +CONDSTORE
passdb {{
  driver = static
  args = password=pw-%u
}}
userdb {{
  driver = static
  args = uid={account.pw_uid} gid={account.pw_gid} home={root}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port if tls else 0}
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
    )
    (run / "state").mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    server = Dovecot(port, root, account.pw_uid, account.pw_gid, proc, tls_port)
    try:
        wait_port(port, proc)
    except RuntimeError as exc:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        log = (base / "dovecot.log").read_text() if (base / "dovecot.log").exists() else ""
        raise RuntimeError(f"dovecot did not start: {exc}: {err} {log}") from None
    return server


class CuttingProxy:
    """A TCP relay on loopback that drops its first connection after ``cut`` bytes from the
    server (a server or network failing mid-sync); later connections pass untouched."""

    def __init__(self, target_port: int, cut: int) -> None:
        self.target_port = target_port
        self.cut = cut
        self.cuts = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = int(self.sock.getsockname()[1])
        self.first = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            limit = self.cut if self.first else None
            self.first = False
            threading.Thread(target=self._pipe, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, limit), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    dst.sendall(data[: max(limit - sent, 0)])
                    self.cuts += 1
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self.sock.close()


class FeedServer:
    """A published ICS feed on loopback that answers conditional GETs (ETag and
    Last-Modified) as a real web server does; ``text`` is what it serves now."""

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.requests: list[tuple[str, int]] = []  # (path, status)
        feed = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = feed.text.encode()
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    feed.requests.append((self.path, 304))
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                status = 200 if self.path.startswith("/cal.ics") else 404
                feed.requests.append((self.path, status))
                self.send_response(status)
                self.send_header("Content-Type", "text/calendar; charset=utf-8")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body) if status == 200 else 0))
                self.end_headers()
                if status == 200:
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cal.ics"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Radicale:
    """A running Radicale (CalDAV/CardDAV): users ``ann`` and ``bob``, password ``pw-<user>``."""

    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def request(self, method: str, path: str, body: str = "", user: str = "ann") -> int:
        import requests  # noqa: PLC0415

        resp = requests.request(
            method, self.url + path.lstrip("/"), data=body.encode(), auth=(user, f"pw-{user}"),
            headers={"Content-Type": "text/calendar; charset=utf-8"}, timeout=10,
        )  # fmt: skip
        return int(resp.status_code)

    def calendar(self, path: str, user: str = "ann") -> None:
        body = (
            '<?xml version="1.0"?><c:mkcalendar xmlns:d="DAV:" '
            'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:displayname>'
            f"{path}</d:displayname></d:prop></d:set></c:mkcalendar>"
        )
        code = self.request("MKCALENDAR", f"{user}/{path}/", body, user)
        assert code == 201, code

    def put(self, path: str, text: str, user: str = "ann") -> None:
        code = self.request("PUT", f"{user}/{path}", text, user)
        assert code in (201, 204), code

    def delete(self, path: str, user: str = "ann") -> None:
        assert self.request("DELETE", f"{user}/{path}", "", user) in (200, 204)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_radicale(base: Path) -> Radicale:
    """Radicale from the venv on a free loopback port, with its own storage."""
    try:
        import radicale  # noqa: F401, PLC0415
    except ImportError:
        missing("radicale (pip, requirements.lock)")
    users = base / "users"
    users.write_text("ann:pw-ann\nbob:pw-bob\n")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", "", "--server-hosts", f"127.0.0.1:{port}",
         "--storage-filesystem-folder", str(base / "collections"), "--auth-type", "htpasswd",
         "--auth-htpasswd-filename", str(users), "--auth-htpasswd-encryption", "plain",
         "--logging-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_port(port, proc)
    except RuntimeError as exc:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise RuntimeError(f"radicale did not start: {exc}: {err[-2000:]}") from None
    return Radicale(port, proc)
