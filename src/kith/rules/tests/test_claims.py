"""Two workers draining at once never take the same queued event (real commits, threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from kith.core import clock
from kith.rules import engine
from kith.rules.models import RuleEvent


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_claim_the_same_event() -> None:
    RuleEvent.objects.bulk_create(
        [RuleEvent(event="record.created", payload={"record_id": f"x{i}"}) for i in range(300)]
    )
    taken: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            while True:
                batch, until = engine.claim(25, clock.now())
                if not batch:
                    return
                taken[name].extend(e.id for e in batch)
                RuleEvent.objects.filter(claimed_until=until).update(status=RuleEvent.DONE)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert not set(taken["a"]) & set(taken["b"])
    assert len(taken["a"]) + len(taken["b"]) == 300
