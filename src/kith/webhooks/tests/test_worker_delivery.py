"""Deliveries are the worker's job: queued with the write, sent by it, retried by its sweep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django_tasks_db.models import DBTaskResult

from kith.core import clock, jobs, worker
from kith.server.tests.conftest import Caller
from kith.webhooks.models import Delivery
from kith.webhooks.outbox import send_due_deliveries
from kith.webhooks.tests.test_webhooks import Receiver


@pytest.fixture(autouse=True)
def _only_the_webhook_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other apps' periodic jobs (rules, tasks) stay out of these runs."""
    monkeypatch.setattr(jobs, "_PERIODIC", {"webhooks.send": jobs._PERIODIC["webhooks.send"]})


@pytest.fixture
def hook_receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _queued() -> int:
    return DBTaskResult.objects.filter(
        status="READY", task_path=send_due_deliveries.module_path
    ).count()


def test_the_write_queues_one_sending_job_the_worker_runs(
    admin: Caller,
    member: Caller,
    hook_receiver: Receiver,
) -> None:
    admin.call("POST", "/webhooks", {"url": hook_receiver.url, "events": ["record.created"]})
    assert _queued() == 0
    for i in range(3):
        member.call("POST", "/records", {"name": f"Queued {i}"})
    assert _queued() == 1  # one waiting job serves every delivery written before it runs
    assert hook_receiver.requests == []  # nothing is sent by the web process
    worker.run_pending()
    assert len(hook_receiver.requests) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    worker.run_pending()
    assert len(hook_receiver.requests) == 3  # nothing sent twice


def test_a_failed_delivery_is_retried_by_the_worker_after_its_backoff(
    admin: Caller,
    member: Caller,
    hook_receiver: Receiver,
    time_travel: clock.Trip,
) -> None:
    hook_receiver.status = 503
    admin.call("POST", "/webhooks", {"url": hook_receiver.url, "events": ["record.created"]})
    member.call("POST", "/records", {"name": "Retry Me"})
    worker.run_pending()
    (d,) = Delivery.objects.all()
    assert (d.status, d.attempts) == ("pending", 1)
    hook_receiver.status = 200
    time_travel.advance(dt.timedelta(seconds=5))
    worker.run_pending()
    assert len(hook_receiver.requests) == 1  # its back-off (10 s) has not passed
    time_travel.advance(dt.timedelta(seconds=10))
    worker.run_pending()  # the periodic sweep finds it due
    d.refresh_from_db()
    assert (d.status, d.attempts, len(hook_receiver.requests)) == ("delivered", 2, 2)
    time_travel.advance(dt.timedelta(minutes=5))
    before = DBTaskResult.objects.count()
    worker.run_pending()  # nothing pending: the sweep leaves no job behind
    assert DBTaskResult.objects.count() == before
