"""A database that cannot be reached, or a URL Kith cannot use, is one clear line that
never shows the URL's password."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from kith.conf import masked_url


def _kith(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kith", *args], capture_output=True, text=True, timeout=120
    )


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bob:s3cret@db.example:5433/crm", "postgresql://bob:***@db.example:5433/crm"),
        ("postgresql://bob@db.example/crm", "postgresql://bob@db.example/crm"),
        ("mysql://u:p%40ss@h/db", "mysql://u:***@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_masked_url(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_an_unreachable_database_says_so_without_the_password() -> None:
    done = _kith("--db", f"postgresql://bob:s3cret@127.0.0.1:{_closed_port()}/crm", "list")
    assert done.returncode == 1
    assert done.stderr.startswith("error: the database is unreachable (postgresql bob@127.0.0.1")
    assert "s3cret" not in done.stdout + done.stderr and "Traceback" not in done.stderr


def test_an_unsupported_url_hides_its_password() -> None:
    done = _kith("--db", "mysql://bob:s3cret@h/db", "list")
    assert done.returncode == 1 and "mysql://bob:***@h/db" in done.stderr
    assert "s3cret" not in done.stdout + done.stderr and "Traceback" not in done.stderr
