"""``kith user`` and ``kith token`` from the command line."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.contrib.auth import authenticate

from kith.accounts.models import ApiToken
from kith.accounts.selectors import token_user
from kith.core.models import AuditEvent


def test_user_add_prints_a_one_time_password(cli) -> None:
    code, out, _ = cli("user", "add", "Ann@Our.test", "--role", "admin", "--team", "sales")
    assert code == 0 and "added admin ann@our.test (team sales)" in out
    password = out.split("one-time password: ")[1].strip()

    assert authenticate(username="ann@our.test", password=password) is not None
    code, _, err = cli("user", "add", "ann@our.test")
    assert code == 1 and "already exists" in err
    code, _, err = cli("user", "add", "bob@our.test", "--role", "boss")
    assert code == 1 and "role" in err


def test_password_stdin_passwd_and_disable(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("first password!\n"))
    code, out, _ = cli(
        "user", "add", "cat@our.test", "--role", "viewer", "--password-stdin", "--json"
    )
    assert code == 0 and json.loads(out)["password"] is None
    assert authenticate(username="cat@our.test", password="first password!") is not None
    monkeypatch.setattr(sys, "stdin", io.StringIO("second password!\n"))
    assert cli("user", "passwd", "cat@our.test", "--password-stdin")[0] == 0
    assert authenticate(username="cat@our.test", password="second password!") is not None
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    code, _, err = cli("user", "passwd", "cat@our.test", "--password-stdin")
    assert code == 1 and "at least 10" in err
    assert cli("user", "disable", "cat@our.test")[0] == 0
    assert authenticate(username="cat@our.test", password="second password!") is None
    code, _, err = cli("user", "disable", "nobody@our.test")
    assert code == 1 and "no user" in err
    assert AuditEvent.objects.filter(action="user.disabled", target="cat@our.test").exists()


def test_token_create_and_revoke(cli) -> None:
    cli("user", "add", "dan@our.test", "--role", "member")
    code, out, _ = cli("token", "create", "dan@our.test", "--expires", "7", "--json")
    made = json.loads(out)
    assert code == 0 and made["token"].startswith("kith_")
    assert token_user(made["token"]) is not None
    assert not ApiToken.objects.filter(digest__contains=made["token"]).exists()
    code, out, _ = cli("token", "revoke", made["id"])
    assert code == 0 and "revoked" in out
    assert token_user(made["token"]) is None
    code, _, err = cli("token", "revoke", made["id"])
    assert code == 1 and "already revoked" in err
    code, _, err = cli("token", "create", "dan@our.test", "--expires", "0")
    assert code == 1 and "expires" in err


def test_passwd_of_an_unknown_user_fails_before_asking_for_a_password(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    typed = io.StringIO("a long password\na long password\n")
    monkeypatch.setattr(sys, "stdin", typed)
    code, out, err = cli("user", "passwd", "nobody@our.test")
    assert (code, out) == (1, "") and err == "error: email: no user 'nobody@our.test'\n"
    assert typed.read() == "a long password\na long password\n"  # nothing was read
    assert not AuditEvent.objects.filter(action="user.password_changed").exists()
