"""``kith serve --demo-signin``: a sign-in for trying Kith, printed once per start."""

from __future__ import annotations

from django.contrib.auth import authenticate

from kith.accounts.selectors import role_of
from kith.server.serve import signins
from kith.testing import make_home, make_person


def test_demo_signin_is_one_of_our_team_and_changes_every_start() -> None:
    home = make_home()
    make_person("Zed Last", email="zed@our.test", org=home)
    make_person("Amy First", email="Amy@Our.test", org=home)
    (email, password, demo), *rest = signins(demo="demo@kith.local")
    assert (email, demo, rest) == ("amy@our.test", True, [])  # no first admin besides it
    user = authenticate(username=email, password=password)
    assert user is not None and role_of(user) == "admin"
    (_, again, _), *_ = signins(demo="demo@kith.local")
    assert again != password
    assert authenticate(username=email, password=password) is None
    assert authenticate(username=email, password=again) is not None


def test_demo_signin_without_a_team_uses_the_fallback() -> None:
    (email, _, demo), *_ = signins(demo="demo@kith.local")
    assert (email, demo) == ("demo@kith.local", True)


def test_first_start_without_demo_creates_the_first_admin_once() -> None:
    assert [(e, d) for e, _, d in signins()] == [("admin@kith.local", False)]
    assert signins() == []
