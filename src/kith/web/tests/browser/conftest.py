"""Browser journeys: `kith serve` on a demo workspace of its own, driven by Playwright
in Debian's Chromium. Without Chromium the journeys are skipped, except under CI=true,
where that is a failure."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import sync_playwright

pytestmark = pytest.mark.browser
KITH = str(Path(sys.executable).parent / "kith")
ADMIN, MEMBER, PASSWORD = "admin@demo.test", "member@demo.test", "correct horse battery"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-quic",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def _database() -> None:
    """No database in this process: journeys see Kith only through the server and the CLI."""


@dataclass
class LiveKith:
    base: str
    db: str
    env: dict[str, str]

    def kith(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the CLI against the server's workspace (to set up or check data)."""
        return subprocess.run(
            [KITH, "--db", self.db, *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _server_database(home: Path) -> str:
    """The server's own database, on the backend this test run is on (KITH_DB)."""
    url = os.environ.get("KITH_DB", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{home / 'web.db'}"

    base, _, name = url.rpartition("/")
    fresh = f"{name.split('?')[0]}_browser_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{fresh}"')
        conn.execute(f'CREATE DATABASE "{fresh}"')
    return f"{base}/{fresh}"


def _drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        return

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveKith]:
    """A running server on a small demo workspace, with an admin and a member."""
    home = tmp_path_factory.mktemp("live-web")
    db = _server_database(home)
    env = {**os.environ, "KITH_HOME": str(home), "KITH_RATE_LIMIT": "0"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("KITH_DB", None)
    live = LiveKith("", db, env)
    for args, stdin in [
        (["demo", "--people", "400", "--orgs", "40", "--interactions", "4000"], None),
        (["user", "add", ADMIN, "--role", "admin", "--password-stdin"], PASSWORD),
        (["user", "add", MEMBER, "--role", "member", "--password-stdin"], PASSWORD),
    ]:
        done = live.kith(*args, stdin=stdin)
        assert done.returncode == 0, done.stderr
    port = _port()
    server = subprocess.Popen(
        [KITH, "--db", db, "serve", "--port", str(port), "--workers", "1", "--threads", "4"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    live.base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240  # a loaded 2-core machine imports slowly
    while True:
        try:
            urllib.request.urlopen(live.base + "/login", timeout=2).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                out = server.stdout.read() if server.stdout else ""
                server.kill()
                pytest.fail(f"kith serve did not start:\n{out}")
            time.sleep(0.2)
    try:
        yield live
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        _drop_database(db)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is not installed, and CI requires the browser journeys")
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)")

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, live: LiveKith) -> Iterator[Any]:
    """A fresh browser page; CSP violations and script errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=live.base)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    pg.on("console", lambda msg: _console(msg, problems))
    try:
        yield pg
    finally:
        context.close()
    assert not problems, problems


def _console(msg: Any, problems: list[str]) -> None:
    # a form answered 4xx on purpose shows as "Failed to load resource ... 4xx"; not a fault
    if msg.type == "error" and "status of 4" not in msg.text:
        problems.append(f"console error: {msg.text}")


def sign_in(page: Any, email: str = ADMIN, password: str = PASSWORD) -> None:
    """Sign in through the form and land on the home page."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
