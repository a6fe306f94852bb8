"""A small account with a history: people joining and leaving, mail, meetings, tasks, a plan,
and a private person who must be named nowhere by another user."""

from __future__ import annotations

from typing import Any

import pytest

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user
from kith.core import clock
from kith.core.viewer import SYSTEM
from kith.plans import services as plans
from kith.records.services import update_record
from kith.relationships.models import Relationship
from kith.relationships.services import end_relationship
from kith.tasks.services import complete_task, create_task
from kith.testing import log, make_home, make_org, make_person, relate


@pytest.fixture
def acme(settings: Any) -> dict[str, Any]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with clock.travel("2026-01-05T09:00Z"):
        home = make_home()
        ann = make_person("Ann Lee", email="ann@our.test", org=home, since="2025-01-01")
        bob = make_person("Bob Stone", email="bob@our.test", org=home, since="2025-01-01")
        org = make_org("Acme", domains=("acme.test",))
        jane = make_person(
            "Jane Doe", email="jane@acme.test", org=org, role="CFO", since="2025-06-01"
        )
        kim = make_person("Kim Ito", email="kim@acme.test", org=org, role="Engineer")
        add_user(email="owner@our.test", role="member", password="a long password 1")
        add_user(email="other@our.test", role="member", password="a long password 2")
    owner = get_user("owner@our.test")
    secret = add_owned_record(user=owner, private=True, type_key="person", name="Secret Sam")
    relate(secret, "works_at", org, since="2026-11-01", role="Chief Spy")
    # steady history with Jane since the summer, then a quiet autumn
    for day in ("2026-06-02", "2026-06-20", "2026-07-08", "2026-07-30", "2026-08-18"):
        log("meeting", ann, jane, at=f"{day}T10:00Z", subject="Quarterly check-in")
    for day in ("2026-09-01", "2026-09-15"):
        log("email", kim, bob, at=f"{day}T10:00Z", direction="in", subject="API question")
        log("email", bob, kim, at=f"{day}T15:00Z", direction="out", subject="Re: API question")
    # the window (2026-11-01 .. 2026-11-07)
    with clock.travel("2026-11-02T08:00Z"):
        rel = Relationship.objects.get(from_record=jane, to_record=org)
        end_relationship(rel_id=rel.id, on="2026-11-02")
        raj = make_person(
            "Raj Patel", email="raj@acme.test", org=org, role="CFO", since="2026-11-03"
        )
    with clock.travel("2026-11-03T12:00Z"):
        update_record(ref=org.id, values={"industry": "steel"})
    first = log("email", raj, ann, at="2026-11-04T09:00Z", direction="in", subject="Renewal terms")
    log("email", kim, bob, at="2026-11-05T09:00Z", direction="in", subject="Outage", thread_id="t1")
    log(
        "email",
        bob,
        kim,
        at="2026-11-05T11:00Z",
        direction="out",
        subject="Re: Outage",
        thread_id="t1",
    )
    log("meeting", ann, raj, kim, at="2026-11-01T00:00Z", subject="Kick-off with Raj")
    hush = log("email", secret, ann, at="2026-11-06T09:00Z", direction="in", subject="Psst")
    log("meeting", ann, secret, at="2026-11-06T10:00Z", subject="Secret lunch")
    planned = log("meeting", ann, raj, kim, at="2026-11-20T15:00Z", subject="Renewal review")
    with clock.travel("2026-10-20T09:00Z"):
        late = create_task(
            viewer=SYSTEM, title="Send the renewal quote", due="2026-11-03", about=[org]
        )
        done = create_task(viewer=SYSTEM, title="Book the kick-off", due="2026-11-10", about=[raj])
        spy = create_task(viewer=SYSTEM, title="Ask Sam about the spy work", about=[secret])
    with clock.travel("2026-11-04T16:00Z"):
        complete_task(viewer=SYSTEM, task_id=done.id)
    return {
        "home": home,
        "ann": ann,
        "bob": bob,
        "org": org,
        "jane": jane,
        "kim": kim,
        "raj": raj,
        "secret": secret,
        "first": first,
        "hush": hush,
        "planned": planned,
        "late": late,
        "done": done,
        "spy": spy,
        "owner": viewer_of(owner),
        "other": viewer_of(get_user("other@our.test")),
        "plans": plans,
    }
