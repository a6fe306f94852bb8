"""A live `kith serve` on loopback for the security suite, on SQLite and on PostgreSQL.

Each module gets a fresh database (a file, or a PostgreSQL database made for it and dropped
after), an admin and a viewer with API tokens made by the CLI, and the server's process
tree, so a test can read the server's peak memory. Under ``CI=true`` a missing PostgreSQL
fails the run."""

from __future__ import annotations

import base64
import http.cookiejar
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
import pytest

KITH = str(Path(sys.executable).parent / "kith")
PG = os.environ.get("KITH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery staple"  # of the users tests add through the API


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    """A running server: its base URL, tokens, process and environment."""

    base: str
    env: dict[str, str]
    process: subprocess.Popen[str]
    tokens: dict[str, str] = field(default_factory=dict)
    home: Path = Path()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        who: str | None = "admin",
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
        timeout: float = 120,
    ) -> tuple[int, Any, dict[str, str]]:
        """One request; (status, JSON or text, response headers). Never follows redirects."""
        sent = dict(headers or {})
        if who is not None:
            sent["Authorization"] = f"Bearer {self.tokens[who]}"
        if body is not None:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.base + path, data=data, headers=sent, method=method)
        opener = urllib.request.build_opener(_NoRedirect())
        try:
            with opener.open(req, timeout=timeout) as resp:
                return resp.status, _decode(resp.read()), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, _decode(exc.read()), dict(exc.headers)

    def kith(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KITH, *args], env=self.env, input=stdin, capture_output=True, text=True, timeout=120
        )

    def peak_mb(self) -> float:
        """The highest peak resident memory (VmHWM) of the server's processes, in MB."""
        peaks = []
        for pid in _tree(self.process.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks, default=0.0)


class Browser:
    """A cookie jar signed in through the API or the web's form, from address ``ip``."""

    def __init__(self, live: Live, ip: str) -> None:
        self.live, self.ip = live, ip
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(
        self, method: str, path: str, body: Any = None, form: dict[str, str] | None = None
    ) -> tuple[int, str]:
        headers = {"X-Forwarded-For": self.ip, "Origin": self.live.base}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if form is not None:
            data = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if csrf := self.cookie("csrftoken"):
            headers["X-CSRFToken"] = csrf
        req = urllib.request.Request(self.live.base + path, data, headers, method=method)
        try:
            with self.opener.open(req, timeout=60) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def api_sign_in(self, email: str, password: str = PASSWORD) -> int:
        return self.request("POST", "/api/v1/auth/login", {"email": email, "password": password})[0]

    def web_sign_in(self, email: str, password: str = PASSWORD) -> int:
        code, page = self.request("GET", "/login")
        assert code == 200, page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, "no CSRF field on the sign-in page"
        form = {"csrfmiddlewaretoken": token.group(1), "email": email, "password": password}
        return self.request("POST", "/login", form=form)[0]

    def api_ok(self) -> bool:
        return self.request("GET", "/api/v1/auth/me")[0] == 200

    def web_ok(self) -> bool:
        code, _ = self.request("GET", "/people")
        return code == 200  # signed out: a redirect to /login


def upload(live: Live, name: str, content: bytes, **fields: str) -> tuple[int, Any]:
    boundary = secrets.token_hex(12)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    code, answer, _ = live.call(
        "POST",
        "/api/v1/imports",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    return code, answer


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _b64(value: Any) -> str:
    """``value`` as a cursor is spelled: URL-safe base64 of its JSON (for forging them)."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        todo += [int(c) for c in children]
    return out


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database on the backend of this test pass (``KITH_DB``: the suite runs once
    on SQLite and once on PostgreSQL), so each backend is tried once, not twice."""
    if not os.environ.get("KITH_DB", "").startswith(("postgres", "postgresql")):
        yield f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
        return
    try:
        admin = psycopg.connect(PG, autocommit=True, connect_timeout=5)
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG} is required under CI: {exc}")
        pytest.skip(f"PostgreSQL at {PG} is not reachable")
    name = f"kith_live_{secrets.token_hex(4)}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield urlunsplit(urlsplit(PG)._replace(path=f"/{name}"))
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """Settings a module gives its server (a module overrides this fixture)."""
    return {}


@pytest.fixture(scope="module")
def live(
    database: str, server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """`kith serve` on a free loopback port with an admin and a viewer (tokens), one for
    the module: the tests leave each other's data alone."""
    port = free_port()
    tmp_path = tmp_path_factory.mktemp("home")
    env = {
        **os.environ,
        "KITH_DB": database,
        "KITH_HOME": str(tmp_path),
        "KITH_RATE_LIMIT": "100000",
    }
    for name in ("DJANGO_SETTINGS_MODULE", "KITH_WEBHOOK_ALLOW", "KITH_TRUSTED_PROXIES"):
        env.pop(name, None)
    env.update(server_env)

    def cli(*args: str) -> str:
        done = subprocess.run([KITH, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("init", "--home", "Our Co", "--domain", "our.test")
    tokens = {}
    for who in ("admin", "viewer"):
        cli("user", "add", f"{who}@our.test", "--role", who)
        tokens[who] = json.loads(cli("token", "create", f"{who}@our.test", "--json"))["token"]
    log = tmp_path / "server.log"
    server = subprocess.Popen(
        [KITH, "serve", "--port", str(port), "--workers", "1", "--threads", "4"],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240  # a loaded 2-core machine imports slowly
        while True:
            try:
                urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=5).close()
                break
            except OSError:
                said = log.read_text()[-2000:]
                assert server.poll() is None, f"the server exited:\n{said}"
                assert time.monotonic() < deadline, f"the server did not start:\n{said}"
                time.sleep(0.3)
        yield Live(base=base, env=env, process=server, tokens=tokens, home=tmp_path)
    finally:  # also when it never came up: no server is left behind
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
