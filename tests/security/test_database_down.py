"""A live `kith serve` whose PostgreSQL goes away half-way: the API and the web say the
database cannot be reached (503), with no traceback and no bare internal error.

The server reaches PostgreSQL through a TCP forwarder the test starts on loopback, so the
test can cut the database off without stopping the machine's PostgreSQL."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

pytestmark = pytest.mark.slow
KITH = str(Path(sys.executable).parent / "kith")
PG = os.environ.get("KITH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


class Forwarder:
    """Pipes loopback connections to PostgreSQL until ``cut()``."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.open: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.closed:
                client.close()
                return
            server = socket.create_connection(self.upstream)
            self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):  # wakes the blocked accept(); close alone does not
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for s in self.open:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def database() -> Iterator[str]:
    try:
        admin = psycopg.connect(PG, autocommit=True, connect_timeout=5)
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG} is required under CI: {exc}")
        pytest.skip(f"PostgreSQL at {PG} is not reachable")
    name = f"kith_down_{secrets.token_hex(4)}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def test_api_and_web_say_the_database_cannot_be_reached(database: str, tmp_path: Path) -> None:
    pg = urlsplit(PG)
    forwarder = Forwarder(pg.hostname or "127.0.0.1", pg.port or 5432)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {
        **os.environ,
        "KITH_DB": f"postgresql://{pg.username or 'postgres'}@127.0.0.1:{forwarder.port}/{database}",
        "KITH_HOME": str(tmp_path),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [KITH, "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = [server.stdout.readline() for _ in range(2)]
        password = first[1].split("one-time password: ")[1].strip()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240  # a loaded machine imports slowly
        while True:
            try:
                urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=30).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login = urllib.request.Request(
            base + "/api/v1/auth/login",
            data=json.dumps({"email": "admin@kith.local", "password": password}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        assert opener.open(login, timeout=20).status == 200
        assert opener.open(base + "/api/v1/auth/me", timeout=20).status == 200

        forwarder.cut()  # PostgreSQL is gone for this server from here on

        def first_error(path: str) -> tuple[int, str]:
            for _ in range(40):  # a connection that was mid-use may still answer for a moment
                try:
                    opener.open(base + path, timeout=20).close()
                except urllib.error.HTTPError as exc:
                    return exc.code, exc.read().decode()
                time.sleep(0.25)
            return 200, "{}"

        code, text = first_error("/api/v1/records")
        assert code == 503, f"still answering {code} 10 s after the database was cut off"
        body = json.loads(text)
        assert body["code"] == "unavailable"
        assert "cannot be reached" in body["message"]
        code, page = first_error("/people")
        assert code == 503 and "Database unavailable" in page
        assert "cannot be reached" in page and "Traceback" not in page
    finally:
        server.terminate()
        server.wait(timeout=20)
        forwarder.cut()
