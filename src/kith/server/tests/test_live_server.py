"""`kith serve` for real: gunicorn with two worker processes on one database, static files,
sessions shared across processes, and webhooks sent after commit by the server itself."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from kith.webhooks.tests.test_webhooks import Receiver

pytestmark = pytest.mark.slow
KITH = str(Path(sys.executable).parent / "kith")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(base: str, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_serve_two_workers_one_database(tmp_path: Path) -> None:
    url = os.environ.get("KITH_DB", "")
    if not url.startswith("sqlite"):
        pytest.skip("the live server test runs on its own SQLite file")
    db = f"sqlite:///{tmp_path / 'live.db'}"
    env = {**os.environ, "KITH_DB": db, "KITH_HOME": str(tmp_path), "KITH_WEBHOOK_BACKOFF": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    port = _port()
    server = subprocess.Popen(
        [KITH, "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    receiver = Receiver()
    try:
        assert server.stdout is not None
        first = [server.stdout.readline() for _ in range(2)]
        assert "created the first admin admin@kith.local" in first[0]
        password = first[1].split("one-time password: ")[1].strip()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240  # a loaded 2-core machine imports slowly
        while True:
            try:
                urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        with urllib.request.urlopen(base + "/static/ninja/swagger-ui.css", timeout=5) as resp:
            assert resp.status == 200 and len(resp.read()) > 1000
        login = urllib.request.Request(
            base + "/api/v1/auth/login",
            data=json.dumps({"email": "admin@kith.local", "password": password}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(login, timeout=10) as resp:
            assert json.loads(resp.read())["role"] == "admin"
        made = subprocess.run(
            [KITH, "token", "create", "admin@kith.local", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        token = json.loads(made.stdout)["token"]
        code, hook = _call(
            base,
            "POST",
            "/api/v1/webhooks",
            token,
            {"url": receiver.url, "events": ["record.created"]},
        )
        assert code == 201
        ids = []
        for i in range(6):  # spread over both workers
            code, rec = _call(base, "POST", "/api/v1/records", token, {"name": f"Live {i}"})
            assert code == 201
            ids.append(rec["id"])
        for rid in ids:
            assert _call(base, "GET", f"/api/v1/records/{rid}", token)[0] == 200
        deadline = time.monotonic() + 20
        while len(receiver.requests) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.2)
        got = sorted(json.loads(r["body"])["data"]["record_id"] for r in receiver.requests)
        assert got == sorted(ids)  # each sent once, by whichever worker wrote it
        code, page = _call(base, "GET", f"/api/v1/webhooks/{hook['id']}/deliveries", token)
        assert {d["status"] for d in page["items"]} == {"delivered"}
    finally:
        receiver.close()
        server.terminate()
        server.wait(timeout=20)
