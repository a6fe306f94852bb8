"""``kith next`` finds every introduction path in one search: for each target the same best
path (score and nodes) as ``kith path``'s ranked search gives it alone, on a random graph."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user
from kith.core.viewer import SYSTEM
from kith.network.graph import get_graph
from kith.network.paths import ranked_paths
from kith.network.selectors import path
from kith.plans.intros import best_paths_to_many, intro_paths
from kith.testing import log, make_home, make_org, make_person, relate

TODAY = dt.date(2026, 6, 15)


def test_one_search_finds_each_targets_best_path(time_travel: Any) -> None:
    rng = random.Random(13)
    home = make_home()
    team = [make_person(f"Team {i}", org=home) for i in range(3)]
    orgs = [make_org(f"Org {i}") for i in range(5)]
    people = [make_person(f"P {i}", org=rng.choice(orgs)) for i in range(40)]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < 45:
        a, b = rng.sample(range(len(people)), 2)
        pairs.add((min(a, b), max(a, b)))
    for a, b in sorted(pairs):
        relate(people[a], "knows", people[b])
    for m in team:
        for p in rng.sample(people, 5):
            for _ in range(rng.randrange(1, 6)):
                day = TODAY - dt.timedelta(days=rng.randrange(2, 400))
                log("meeting", m, p, at=day.isoformat())
    g = get_graph(TODAY)
    blocked = {g.home} if g.home is not None else set()
    sources = [g.index[m.id] for m in team]
    targets = [g.index[p.id] for p in people] + [g.index[o.id] for o in orgs]
    for hops in (2, 3, 4):
        many = best_paths_to_many(g, sources, targets, max_hops=hops, blocked=blocked)
        found = 0
        for t in targets:
            alone = ranked_paths(g, sources, t, max_hops=hops, k=2, blocked=blocked)
            if not alone:
                assert t not in many
                continue
            found += 1
            score, strength, nodes = many[t]
            assert round(score, 9) == round(alone[0][0], 9), (hops, g.ids[t])
            assert round(strength, 9) == round(alone[0][1], 9) or (
                len(alone) > 1 and round(alone[1][0], 9) == round(score, 9)
            )
            assert nodes[0] in sources and nodes[-1] == t and len(set(nodes)) == len(nodes)
            assert nodes == alone[0][2] or round(alone[1][0], 9) == round(score, 9)
        assert found > 20 if hops >= 3 else found > 5
    # the selector gives what kith path gives, as its best path
    ids = [p.id for p in people[:15]]
    got = intro_paths(SYSTEM, ids, max_hops=3, as_of=TODAY)
    for pid in ids:
        best = path(SYSTEM, pid, max_hops=3, k=1, as_of=TODAY)["paths"]
        assert (got.get(pid) is None) == (not best)
        if best:
            assert got[pid]["score"] == best[0]["score"]
            assert got[pid]["hops"] == best[0]["hops"]


def test_intro_paths_go_through_no_hidden_record(time_travel: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    add_user(email="owner@our.test", role="member", password="a long password 1")
    add_user(email="other@our.test", role="member", password="a long password 2")
    owner = get_user("owner@our.test")
    home = make_home()
    mia = make_person("Mia Chen", org=home)
    acme = make_org("Acme")
    lee = make_person("Lee Park", org=acme)
    secret = add_owned_record(user=owner, private=True, type_key="person", name="Secret Sue")
    for day in ("2026-05-01", "2026-05-20", "2026-06-01"):
        log("meeting", mia, secret, at=f"{day}T10:00Z")
    relate(secret, "knows", lee)
    mine = intro_paths(viewer_of(owner), [lee.id, secret.id], as_of=TODAY)
    assert [s["to"]["name"] for s in mine[lee.id]["steps"]] == ["Secret Sue", "Lee Park"]
    theirs = intro_paths(viewer_of(get_user("other@our.test")), [lee.id, secret.id], as_of=TODAY)
    assert "Secret Sue" not in str(theirs) and secret.id not in theirs
    assert lee.id not in theirs or "Secret" not in str(theirs[lee.id])
