"""Visibility in the query: a record hidden from a viewer is not found, never a candidate."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from kith import testing
from kith.core.errors import Ambiguous, NotFound
from kith.core.viewer import SYSTEM, Viewer
from kith.records import selectors
from kith.records.models import Record


def _hide(record: Record, owner_id: int) -> None:
    Record.objects.filter(pk=record.pk).update(private=True, owner_id=owner_id)


@pytest.fixture
def people() -> tuple[Record, Record, Viewer, Viewer]:
    users = get_user_model().objects
    owner = users.create_user(username="owner@our.test")
    other = users.create_user(username="other@our.test")
    shared = testing.make_person("Sam Lee", email="sam@one.test")
    secret = testing.make_person("Sam Lee", email="sam@hidden.test")
    testing.load_contact(shared, "email", "team@both.test")
    testing.load_contact(secret, "email", "team@both.test")
    _hide(secret, owner.pk)
    return shared, secret, Viewer(user_id=owner.pk), Viewer(user_id=other.pk)


def test_an_ambiguous_name_or_email_lists_only_what_the_viewer_sees(
    people: tuple[Record, Record, Viewer, Viewer],
) -> None:
    shared, secret, owner, other = people
    # for another user the name and the shared email are no longer ambiguous at all
    assert selectors.resolve(other, "Sam Lee").id == shared.id
    assert selectors.resolve(other, "team@both.test").id == shared.id
    for viewer in (owner, SYSTEM):
        with pytest.raises(Ambiguous) as err:
            selectors.resolve(viewer, "sam lee")
        assert {secret.id, shared.id} <= {
            c.split("(")[1].split(",")[0] for c in err.value.candidates
        }


def test_a_hidden_match_is_not_found_exactly_like_a_missing_record(
    people: tuple[Record, Record, Viewer, Viewer],
) -> None:
    _, secret, owner, other = people
    for ref in (secret.id, "sam@hidden.test"):
        with pytest.raises(NotFound) as hidden:
            selectors.resolve(other, ref, field="to")
        with pytest.raises(NotFound) as missing:
            selectors.resolve(other, ref + "x", field="to")
        assert hidden.value.message == missing.value.message.replace(ref + "x", ref)
        assert selectors.resolve(owner, ref).id == secret.id
        assert selectors.resolve(SYSTEM, ref).id == secret.id
