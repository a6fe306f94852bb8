"""The duplicates review's reads: pairs, sides and merges leave out what the viewer may not see."""

from __future__ import annotations

import pytest

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user
from kith.core.errors import NotFound
from kith.core.viewer import SYSTEM
from kith.dedupe.pairs import duplicate_pairs, merge_detail, pair_sides, recent_merges
from kith.dedupe.services import merge_records
from kith.testing import make_org, make_person, relate


def _never(merge: object) -> bool:
    return False


def test_pairs_sides_and_merges_of_a_hidden_record_are_not_shown() -> None:
    add_user(email="owner@our.test", role="member", password="x" * 12)
    add_user(email="other@our.test", role="member", password="x" * 12)
    owner, other = viewer_of(get_user("owner@our.test")), viewer_of(get_user("other@our.test"))
    acme = make_org("Acme")
    shared = make_person("Dana Double", org=acme)
    secret = add_owned_record(
        user=get_user("owner@our.test"), private=True, type_key="person", name="Dana Double"
    )
    relate(secret, "works_at", acme)
    twin_a = make_person("Tom Twin", org=acme)
    twin_b = make_person("Tom Twin", org=acme)

    def names(viewer: object) -> list[set[str]]:
        found = duplicate_pairs(viewer, min_score=50)  # type: ignore[arg-type]
        return [{p["keep"]["id"], p["other"]["id"]} for p in found["pairs"]]

    assert {shared.id, secret.id} in names(owner) and {shared.id, secret.id} in names(SYSTEM)
    assert names(other) == [{twin_a.id, twin_b.id}]
    with pytest.raises(NotFound) as hidden:
        pair_sides(other, shared.id, secret.id)
    with pytest.raises(NotFound) as missing:
        pair_sides(other, shared.id, "per_000000000000")
    assert str(hidden.value).replace(secret.id, "X") == str(missing.value).replace(
        "per_000000000000", "X"
    )
    assert pair_sides(owner, shared.id, secret.id)["problem"] == ""

    done = merge_records(keep=shared.id, other=secret.id)  # never hide the shared one
    assert [m["id"] for m in recent_merges(owner, may_undo=_never)] == [done["id"]]
    assert recent_merges(other, may_undo=_never) == []
    with pytest.raises(NotFound):
        merge_detail(other, done["id"], may_undo=_never)
