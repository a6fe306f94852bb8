"""Scores of a few records at once (a page of a list) equal the whole workspace's scores."""

from __future__ import annotations

import datetime as dt

from kith.intelligence.conf import model_config
from kith.intelligence.engine import compute
from kith.testing import log, make_home, make_org, make_person, relate

D = dt.date


def test_people_and_orgs_scopes_match_the_full_compute() -> None:
    home = make_home()
    mia = make_person("Mia Team", org=home, since="2020-01-01")
    ben = make_person("Ben Team", org=home, since="2020-01-01")
    acme, globex, initech = make_org("Acme"), make_org("Globex"), make_org("Initech")
    people = []
    for i, org in enumerate([acme, acme, globex, globex, initech]):
        role = "champion" if i % 2 == 0 else "engineer"
        people.append(make_person(f"P{i}", org=org, role=role, since="2024-01-01"))
    gone = make_person("Dee Parted")
    relate(gone, "works_at", globex, role="decision maker", since="2024-01-01", until="2026-10-01")
    log("meeting", mia, gone, at="2026-09-01T10:00:00+00:00")
    for n, person in enumerate(people):
        for k in range(n + 2):
            when = f"2026-{(k % 9) + 1:02d}-{(n % 27) + 1:02d}T10:00:00+00:00"
            log("meeting" if k % 2 else "email", mia if k % 3 else ben, person, at=when)
    log("survey", people[0], at="2026-06-01T10:00:00+00:00", score=9)
    log("survey", people[0], at="2026-11-01T10:00:00+00:00", score=4)
    cfg, day = model_config(), D(2026, 11, 30)
    full = compute(cfg, day)
    ids = (*(p.id for p in people[1:4]), mia.id)  # a page may hold one of our team
    some = compute(cfg, day, ("people", ids))
    assert {i: some.person_score.get(i) for i in ids} == {i: full.person_score.get(i) for i in ids}
    assert any(some.person_score.get(i) for i in ids)  # a real comparison, not of zeros
    orgs = (acme.id, globex.id)
    scoped = compute(cfg, day, ("orgs", orgs))
    assert set(scoped.orgs) == set(orgs)
    for org in orgs:
        assert scoped.orgs[org].score == full.orgs[org].score
        assert scoped.orgs[org].reasons == full.orgs[org].reasons
    assert any("left" in r for r in full.orgs[globex.id].reasons)
