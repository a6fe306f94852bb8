"""The kept scores equal a full recomputation after every kind of change, and random
sequences of changes; reads use them only for viewers whose scores they are."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from kith.core import clock
from kith.core.viewer import SYSTEM, Viewer
from kith.core.worker import run_pending
from kith.dedupe.services import merge_records
from kith.intelligence import kept_services
from kith.intelligence.conf import model_config
from kith.intelligence.engine import compute
from kith.intelligence.kept_selectors import is_current, kept_for
from kith.intelligence.kept_services import PATCH_AT_MOST, rescore, rescore_records
from kith.intelligence.models import KeptScore
from kith.interactions.services import delete_interaction, edit_interaction, restore_interaction
from kith.records.models import Record
from kith.records.services import delete_record, restore_record
from kith.relationships.services import end_relationship
from kith.testing import log, make_home, make_org, make_person, relate

Row = tuple[Any, ...]


def kept() -> dict[str, Row]:
    """The kept table, rounded where floats may sum in another order."""
    return {
        k.record_id: (
            k.type_key,
            round(k.score, 6),
            k.band,
            k.last_two_way,
            round(k.previous, 6),
            round(k.value, 6),
            k.risk,
            k.newest_event,
            k.live,
        )
        for k in KeptScore.objects.all()
    }


def recomputed() -> dict[str, Row]:
    """What a full rescore writes now (the table is rebuilt; the caller compares)."""
    rescore()
    return kept()


def assert_exact() -> None:
    """The kept table equals a full rescore, and a full rescore equals ``compute``."""
    assert is_current()
    patched = kept()
    assert patched == recomputed()
    cfg, day = model_config(), clock.today()
    now = compute(cfg, day)
    then = compute(cfg, day - dt.timedelta(days=cfg["trend_days"]))
    people = set(Record.objects.filter(type_id="person").values_list("id", flat=True))
    want = {p: s for p, s in now.person_score.items() if p in people}
    want |= {o: s.score for o, s in now.orgs.items()}
    assert {k: round(v[1], 6) for k, v in patched.items()} == {
        k: round(v, 6) for k, v in want.items()
    }
    for oid, row in patched.items():
        if row[0] == "organization":
            before = then.orgs.get(oid)
            assert row[4] == round(before.score if before else 0.0, 6)
        else:
            assert row[4] == round(then.person_score.get(oid, 0.0), 6)


@pytest.fixture
def world(time_travel: Any) -> dict[str, Any]:
    time_travel.to("2026-11-30T12:00:00Z")
    home = make_home()
    mia = make_person("Mia Team", org=home, since="2020-01-01")
    ben = make_person("Ben Team", org=home, since="2020-01-01")
    acme, globex = make_org("Acme"), make_org("Globex")
    ann = make_person("Ann Champion", org=acme, role="champion", since="2024-01-01")
    bob = make_person("Bob Engineer", org=acme, since="2024-01-01")
    cat = make_person("Cat Buyer", org=globex, role="economic buyer", since="2024-01-01")
    for k in range(6):
        log("meeting", mia, ann, at=f"2026-{k + 4:02d}-10T10:00:00+00:00")
        log("email", ben, bob, at=f"2026-{k + 3:02d}-12T10:00:00+00:00", direction="in")
    log("call", ben, cat, at="2026-07-01T10:00:00+00:00", sentiment=0.5)
    log("survey", cat, ben, at="2026-06-01T10:00:00+00:00", score=9)
    rescore()
    return {
        "home": home,
        "mia": mia,
        "ben": ben,
        "acme": acme,
        "globex": globex,
        "ann": ann,
        "bob": bob,
        "cat": cat,
        "trip": time_travel,
    }


def test_rescore_keeps_every_scored_record(world: dict[str, Any]) -> None:
    rows = kept()
    assert {world[k].id for k in ("ann", "bob", "cat", "acme", "globex")} <= set(rows)
    assert world["home"].id not in rows and world["mia"].id not in rows  # our side
    assert rows[world["ann"].id][1] > 0 and rows[world["ann"].id][3] == dt.date(2026, 9, 10)
    assert_exact()


def test_each_kind_of_change_keeps_the_table_exact(world: dict[str, Any]) -> None:
    w = world
    before = kept()[w["cat"].id]
    call = log("call", w["mia"], w["cat"], at="2026-11-29T10:00:00+00:00")
    assert kept()[w["cat"].id] != before  # it moved, in the writer's transaction
    assert_exact()
    log("meeting", w["ben"], w["ann"], at="2026-01-05T10:00:00+00:00")  # before the window
    assert_exact()
    edit_interaction(interaction_id=call.id, values={"kind": "email"})
    assert_exact()
    delete_interaction(interaction_id=call.id)
    assert_exact()
    restore_interaction(interaction_id=call.id)
    assert_exact()
    dee = make_person("Dee New", org=w["globex"], role="champion", since="2026-01-01")
    log("meeting", w["mia"], dee, at="2026-11-20T10:00:00+00:00")
    assert_exact()
    rel = dee.outgoing.get()
    end_relationship(rel_id=rel.id, on="2026-11-25")
    assert_exact()  # Globex: a champion left
    assert kept()[w["globex"].id][6] is True
    joiner = make_person("Joe Joiner")
    log("meeting", joiner, w["bob"], at="2026-11-01T10:00:00+00:00")
    relate(joiner, "works_at", w["home"], since="2026-10-01")  # our team grows
    assert_exact()
    delete_record(ref=w["ann"].id)
    assert_exact()
    restore_record(ref=w["ann"].id)
    assert_exact()
    delete_record(ref=w["acme"].id)
    assert w["acme"].id not in kept()
    assert_exact()
    restore_record(ref=w["acme"].id)
    assert_exact()
    twin = make_person("Bob Engineer Two")
    log("call", w["mia"], twin, at="2026-11-28T10:00:00+00:00")
    merge_records(keep=w["bob"].id, other=twin.id)
    assert_exact()
    make_org("Brand New")  # a new organisation has a health too
    assert_exact()


def test_random_change_sequences_keep_the_table_exact(world: dict[str, Any]) -> None:
    w = world
    rnd = random.Random(18)
    team = [w["mia"], w["ben"]]
    orgs = [w["acme"], w["globex"], make_org("Initech")]
    people = [w["ann"], w["bob"], w["cat"]]
    logged = []
    gone: set[str] = set()
    rescore()
    for step in range(40):
        choice = rnd.random()
        if choice < 0.45 or not logged:
            day = clock.today() - dt.timedelta(days=rnd.randrange(0, 400))
            kind = rnd.choice(["meeting", "call", "email", "survey", "note"])
            extra: dict[str, Any] = {"direction": rnd.choice(["in", "out", ""])}
            if kind == "survey":
                extra["score"] = rnd.randrange(0, 11)
            live = [p for p in people if p.id not in gone]
            at = f"{day}T09:00:00+00:00"
            logged.append(log(kind, rnd.choice(team), rnd.choice(live), at=at, **extra))
        elif choice < 0.55:
            role = rnd.choice(["champion", "engineer", "CEO", ""])
            people.append(make_person(f"New {step}", org=rnd.choice(orgs), role=role))
        elif choice < 0.65:
            i = rnd.choice(logged)
            edit_interaction(interaction_id=i.id, values={"kind": rnd.choice(["call", "email"])})
        elif choice < 0.72:
            delete_interaction(interaction_id=logged.pop(rnd.randrange(len(logged))).id)
        elif choice < 0.8:
            person = rnd.choice([p for p in people if p.id not in gone])
            live = [r for r in person.outgoing.filter(until__isnull=True, type__rollup=True)]
            if live:
                end_relationship(rel_id=live[0].id, on=clock.today())
            else:
                relate(person, "works_at", rnd.choice(orgs), role="decision maker")
        elif choice < 0.88:
            person = rnd.choice(people)
            if person.id in gone:
                restore_record(ref=person.id)
                gone.discard(person.id)
            else:
                delete_record(ref=person.id)
                gone.add(person.id)
        else:
            w["trip"].advance(days=rnd.randrange(1, 4))  # a new day: the worker catches up
            assert not is_current()
            run_pending()
        assert is_current()
        if step % 8 == 7:
            assert kept() == recomputed()
    assert_exact()


def test_reads_use_the_kept_scores_only_when_they_are_the_viewers(
    world: dict[str, Any], time_travel: Any
) -> None:
    users = get_user_model().objects
    owner = users.create_user(username="owner@our.test")
    viewer = Viewer(user_id=users.create_user(username="other@our.test").pk)
    assert kept_for(viewer, "person") and kept_for(viewer, "organization")
    Record.objects.filter(pk=world["bob"].pk).update(private=True, owner=owner)
    # a hidden outside person: people's kept scores are still theirs, organisations' are not
    assert kept_for(viewer, "person") and not kept_for(viewer, "organization")
    assert kept_for(Viewer(user_id=owner.pk), "organization")  # the owner sees everything
    Record.objects.filter(pk=world["ben"].pk).update(private=True, owner=owner)
    assert not kept_for(viewer, "person")  # a hidden member of our team: computed
    assert kept_for(SYSTEM, "person")
    time_travel.advance(days=1)
    assert not kept_for(SYSTEM, "person")  # yesterday's scores are not today's


def test_a_change_too_large_to_patch_queues_a_full_rescore(world: dict[str, Any]) -> None:
    rescore_records(ids=[f"rec_{i}" for i in range(PATCH_AT_MOST + 1)])
    assert not is_current()
    run_pending()
    assert_exact()


def test_kith_rescore_rebuilds_the_pair_table_and_the_kept_scores(
    world: dict[str, Any], cli: Any
) -> None:
    KeptScore.objects.all().delete()
    code, out, _ = cli("rescore", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["as_of"] == "2026-11-30" and data["pair_rows"] > 0
    assert data["people"] == KeptScore.objects.filter(type_key="person").count() >= 3
    assert data["organizations"] == 2
    assert_exact()
    code, out, _ = cli("rescore")
    assert code == 0 and "kept the health of 3 people and 2 organisations" in out


def test_a_big_organisation_is_rescored_by_the_worker_after_the_write(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kept_services, "INLINE_STAFF", 1)  # Acme's two people are "many"
    acme = world["acme"].id
    before = kept()[acme]
    log("meeting", world["ben"], world["ann"], at="2026-11-29T10:00:00+00:00")
    log("call", world["mia"], world["bob"], at="2026-11-29T11:00:00+00:00")
    assert kept()[acme] == before  # not in the writer's transaction
    queued = DBTaskResult.objects.filter(task_path__endswith="rescore_orgs_job", status="READY")
    assert queued.count() == 1  # once while one is queued
    run_pending()
    assert kept()[acme] != before
    assert_exact()


def test_a_change_landing_while_rescoring_leaves_the_table_to_another_rescore(
    world: dict[str, Any],
) -> None:
    def meanwhile(stage: str, done: int, total: int) -> None:
        if stage == "scored":  # a write commits between the scoring and the writing
            log("call", world["mia"], world["cat"], at="2026-11-30T09:00:00+00:00")

    rescore(progress=meanwhile)
    assert not is_current()  # what was scored may lack that call: reads compute
    run_pending()
    assert_exact()


@pytest.mark.django_db(transaction=True)
def test_two_writers_rescoring_one_record_at_once_both_commit(world: dict[str, Any]) -> None:
    """Two transactions rescore the same person; the second waits for the first and then
    writes its row too (delete-then-insert failed it on the key on PostgreSQL: a 409)."""
    ann = world["ann"].id
    first_wrote, errors = threading.Event(), []

    def writer(first: bool) -> None:
        try:
            if not first:
                first_wrote.wait(10)
            with transaction.atomic():
                rescore_records(ids=[ann])
                if first:
                    first_wrote.set()
                    time.sleep(0.5)  # the other writer reaches the same row meanwhile
        except Exception as exc:  # what the test reports
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(f,)) for f in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert_exact()


def test_a_patch_reads_our_team_once_per_day_it_scores(world: dict[str, Any]) -> None:
    home = world["home"].id

    def team_reads(**kwargs: Any) -> int:
        with CaptureQueriesContext(connection) as q:
            rescore_records(**kwargs)
        # team_ids: the people holding a works_at to the home organisation on a day
        return sum(
            1
            for x in q.captured_queries
            if f"to_record_id\" = '{home}'" in x["sql"] and "until" in x["sql"]
        )

    ann, acme = world["ann"], world["acme"]  # a person and her organisation: two scopes
    assert team_reads(ids=[ann.id], since=clock.today()) == 1  # today only (trend kept)
    assert team_reads(ids=[ann.id]) == 2  # today and trend_days earlier
    assert_exact()
    assert team_reads(ids=[acme.id, ann.id]) == 2
    assert_exact()
