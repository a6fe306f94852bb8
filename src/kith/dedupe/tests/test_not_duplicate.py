"""'Not a duplicate' is remembered: the pair is never proposed again, in the kept pairs and
the whole search alike, from the CLI, the API and the web; privacy holds."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record
from kith.core.errors import NotFound, ValidationError
from kith.core.models import AuditEvent
from kith.core.viewer import SYSTEM
from kith.dedupe.selectors import find_duplicates
from kith.dedupe.services import dismiss_pair, rebuild_duplicates
from kith.server.tests.conftest import make_caller
from kith.testing import load_contact, make_person


def _pairs(**kw: Any) -> set[frozenset[str]]:
    found = find_duplicates(SYSTEM, **kw)
    return {frozenset((p["keep"]["id"], p["other"]["id"])) for p in found["pairs"]}


def test_a_dismissed_pair_is_never_proposed_again(cli: Any) -> None:
    a = make_person("Sam Lee", email="sam@one.test")
    b = make_person("Sam Lee", email="sam@two.test")
    c = make_person("Sam  Lee", email="sam@three.test")
    for record in (a, b, c):
        load_contact(record, "phone", "+1 415 555 0100")  # a strong pair each
    rebuild_duplicates()
    assert frozenset((a.id, b.id)) in _pairs()
    code, out, err = cli("not-duplicate", b.id, a.id, "--json")
    assert code == 0, err
    assert json.loads(out)["dismissed"] is True
    for kw in ({}, {"min_score": 10}):  # the kept pairs and the whole search
        found = _pairs(**kw)
        assert frozenset((a.id, b.id)) not in found and frozenset((a.id, c.id)) in found
    rebuild_duplicates()  # a rebuild does not bring it back
    assert frozenset((a.id, b.id)) not in _pairs()
    assert AuditEvent.objects.filter(action="duplicate.dismissed").count() == 1
    dismiss_pair(a=a.id, b=b.id)  # again: no error, one row
    with pytest.raises(ValidationError):
        dismiss_pair(a=a.id, b=a.id)
    code, _, err = cli("not-duplicate", a.id, "nobody")
    assert code == 1 and err.startswith("error: b: ")


def test_api_and_web_dismiss_and_privacy() -> None:
    owner = make_caller("owner@our.test", "member")
    other = make_caller("other@our.test", "member")
    hidden = add_owned_record(
        user=get_user("owner@our.test"), private=True, type_key="person", name="Pat Doe"
    )
    shared = make_person("Pat Doe")
    twin = make_person("Pat  Doe")
    code, _ = other.call("POST", "/duplicates/dismiss", {"a": hidden.id, "b": shared.id})
    assert code == 404
    with pytest.raises(NotFound):
        dismiss_pair(a=hidden.id, b=shared.id, viewer=viewer_of(get_user("other@our.test")))
    code, body = owner.call("POST", "/duplicates/dismiss", {"a": hidden.id, "b": shared.id})
    assert code == 200 and body["dismissed"] is True
    web = Client()
    web.force_login(get_user("other@our.test"))
    page = web.get("/duplicates/pair", {"keep": shared.id, "other": twin.id}).content.decode()
    assert 'id="not-duplicate"' in page
    resp = web.post("/duplicates/dismiss", {"keep": shared.id, "other": twin.id})
    assert resp.status_code == 302
    assert frozenset((shared.id, twin.id)) not in _pairs(min_score=10)
    assert other.email
