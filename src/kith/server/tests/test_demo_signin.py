"""``kith serve --demo-signin``: a sign-in for trying Kith, printed once per start."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import authenticate

from kith.accounts.selectors import role_of
from kith.accounts.services import set_password
from kith.core.errors import ValidationError
from kith.server.serve import check_port_free, signins
from kith.testing import make_home, make_person


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_HOME", str(tmp_path))


def test_demo_signin_is_one_of_our_team_and_kept_across_restarts(tmp_path: Path) -> None:
    home = make_home()
    make_person("Zed Last", email="zed@our.test", org=home)
    make_person("Amy First", email="Amy@Our.test", org=home)
    (email, password, demo), *rest = signins(demo="demo@kith.local")
    assert (email, demo, rest) == ("amy@our.test", True, [])  # no first admin besides it
    user = authenticate(username=email, password=password)
    assert user is not None and role_of(user) == "admin"
    assert (tmp_path / "demo-signin").stat().st_mode & 0o777 == 0o600
    (_, again, _), *_ = signins(demo="demo@kith.local")  # `make run` again
    assert again == password  # nobody is signed out by a restart
    assert authenticate(username=email, password=password) is not None
    set_password(email=email, password="changed by its owner")
    (_, fresh, _), *_ = signins(demo="demo@kith.local")
    assert fresh not in (password, "changed by its owner")  # it no longer worked: a new one
    assert authenticate(username=email, password=fresh) is not None


def test_a_busy_port_is_one_clear_line_before_anything_is_served(cli: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ValidationError) as err:
            check_port_free("127.0.0.1", port)
        assert f"--port: {port} is busy" in err.value.message
        assert f"make run PORT={port + 10}" in err.value.message
        code, out, err_text = cli("serve", "--port", str(port), "--no-job-worker")
    assert code != 0 and "is busy" in err_text and "serving" not in out


def test_demo_signin_without_a_team_uses_the_fallback() -> None:
    (email, _, demo), *_ = signins(demo="demo@kith.local")
    assert (email, demo) == ("demo@kith.local", True)


def test_first_start_without_demo_creates_the_first_admin_once() -> None:
    assert [(e, d) for e, _, d in signins()] == [("admin@kith.local", False)]
    assert signins() == []
