"""The job queue in this process: enqueue, run, retry, fail, time out, lose a worker, schedule."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from kith.core import clock, jobs, worker
from kith.core.errors import ValidationError
from kith.core.models import PeriodicRun, WorkerProcess
from kith.core.selectors import recent_jobs
from kith.core.tests import sample_jobs


@pytest.fixture(autouse=True)
def _calls() -> Iterator[list[str]]:
    sample_jobs.CALLS.clear()
    yield sample_jobs.CALLS
    sample_jobs.CALLS.clear()


def row(job_id: str) -> DBTaskResult:  # type: ignore[type-arg]
    return DBTaskResult.objects.get(pk=job_id)


def test_a_job_runs_once_and_keeps_its_result() -> None:
    job_id = jobs.enqueue(sample_jobs.record, tag="a")
    assert row(job_id).status == "READY"
    assert worker.run_pending() == {"succeeded": 1, "failed": 0, "retry": 0}
    done = row(job_id)
    assert (done.status, done.return_value, len(done.worker_ids)) == ("SUCCESSFUL", "a", 1)
    assert worker.run_pending()["succeeded"] == 0 and sample_jobs.CALLS == ["a"]
    assert recent_jobs()[0]["status"] == "successful"


def test_a_job_enqueued_in_a_rolled_back_transaction_never_exists() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.enqueue(sample_jobs.record, tag="gone")
        raise RuntimeError("the change failed")
    assert worker.run_pending()["succeeded"] == 0 and sample_jobs.CALLS == []


def test_enqueue_refuses_a_plain_function_and_bad_arguments() -> None:
    with pytest.raises(TypeError, match="not a job"):
        jobs.enqueue(sample_jobs._note, log="x", line="y")  # type: ignore[arg-type]
    with pytest.raises(TypeError):  # arguments must be JSON
        jobs.enqueue(sample_jobs.record, tag=object())  # type: ignore[arg-type]


def test_run_after_holds_a_job_back_by_the_kith_clock(time_travel: clock.Trip) -> None:
    later = clock.now() + dt.timedelta(hours=2)
    jobs.enqueue(sample_jobs.record, run_after=later, tag="later")
    assert worker.run_pending()["succeeded"] == 0
    time_travel.advance(dt.timedelta(hours=2))
    assert worker.run_pending()["succeeded"] == 1


def test_retry_backs_off_then_succeeds(time_travel: clock.Trip) -> None:
    job_id = jobs.enqueue(sample_jobs.flaky, tag="f", succeed_on=2)
    assert worker.run_pending()["retry"] == 1
    waiting = row(job_id)
    assert waiting.status == "READY" and waiting.run_after == clock.now() + dt.timedelta(minutes=1)
    assert recent_jobs()[0]["status"] == "retrying"
    assert "the peer said try later" in recent_jobs()[0]["error"]
    time_travel.advance(seconds=59)
    assert worker.run_pending()["succeeded"] == 0  # not yet
    time_travel.advance(seconds=1)
    assert worker.run_pending()["succeeded"] == 1
    assert row(job_id).status == "SUCCESSFUL" and len(row(job_id).worker_ids) == 2


def test_retries_spent_record_the_failure_and_its_reason(time_travel: clock.Trip) -> None:
    job_id = jobs.enqueue(sample_jobs.flaky, tag="never")
    for _ in range(3):
        worker.run_pending()
        time_travel.advance(dt.timedelta(hours=1))
    failed = row(job_id)
    assert failed.status == "FAILED" and sample_jobs.CALLS == ["never"] * 3
    assert failed.exception_class_path == "kith.core.jobs.RetriesExhausted"
    assert "gave up after 3 attempts: never: the peer said try later" in failed.traceback
    assert [j["id"] for j in recent_jobs(failed=True)] == [job_id]


def test_retry_on_errors_are_retried_and_others_fail_at_once(time_travel: clock.Trip) -> None:
    slow = jobs.enqueue(sample_jobs.times_out, tag="t")
    bad = jobs.enqueue(sample_jobs.breaks, tag="b")
    assert worker.run_pending() == {"succeeded": 0, "failed": 1, "retry": 1}
    assert row(bad).exception_class_path == "builtins.ValueError"
    assert "b: bad data" in row(bad).traceback
    time_travel.advance(seconds=5)
    assert worker.run_pending()["failed"] == 1
    assert "attempt 2: TimeoutError: t: no answer in 10 s" in row(slow).traceback


def test_a_job_whose_worker_vanished_runs_again_then_fails() -> None:
    job_id = jobs.enqueue(sample_jobs.record, tag="orphan")
    for n in (1, 2, 3):
        with worker.worker_row(f"gone-{n}"):
            assert worker.claim(f"gone-{n}") is not None
        assert row(job_id).status == "RUNNING"
        assert worker.reap()["lost"] == 1  # its worker row is gone: nobody runs it
        expected = "READY" if n < 3 else "FAILED"
        assert row(job_id).status == expected
    failed = row(job_id)
    assert failed.exception_class_path == "kith.core.jobs.WorkerLost"
    assert "gave up after 3 attempts: its worker stopped while running it" in failed.traceback


def test_a_job_running_past_its_time_out_is_recorded_timed_out(time_travel: clock.Trip) -> None:
    job_id = jobs.enqueue(sample_jobs.record, tag="stuck")
    with worker.worker_row("alive"):
        claimed = worker.claim("alive")
        assert claimed is not None
        time_travel.advance(seconds=jobs.DEFAULT_TIMEOUT - 1)
        assert worker.reap() == {"lost": 0, "timed_out": 0}
        time_travel.advance(seconds=2)
        assert worker.reap() == {"lost": 0, "timed_out": 1}
        assert recent_jobs()[0]["status"] == "timed_out"
        # the late finish of the stuck run does not overwrite the verdict
        assert worker.execute(claimed) == "succeeded"
    assert row(job_id).status == "FAILED"
    assert "timed out: still running after 900 s" in row(job_id).traceback


def test_a_stopping_worker_puts_its_running_jobs_back() -> None:
    job_id = jobs.enqueue(sample_jobs.record, tag="back")
    worker.register_worker("leaving")
    assert worker.claim("leaving") is not None
    worker.deregister_worker("leaving")
    assert row(job_id).status == "READY"
    assert not WorkerProcess.objects.filter(pk="leaving").exists()


# -- the scheduler --------------------------------------------------------------------------


@pytest.fixture
def hourly() -> Iterator[str]:
    jobs.periodic("test.hourly", every=dt.timedelta(hours=1))(sample_jobs.hourly_probe)
    yield "test.hourly"
    jobs.unregister_periodic("test.hourly")


def test_a_periodic_job_runs_when_due_once_and_catches_up_once(
    time_travel: clock.Trip, hourly: str
) -> None:
    worker.run_pending()
    assert sample_jobs.CALLS == ["hourly"]  # the first start runs it
    worker.run_pending()
    time_travel.advance(seconds=59 * 60)
    worker.run_pending()
    assert sample_jobs.CALLS == ["hourly"]  # a restart neither re-runs nor skips
    time_travel.advance(seconds=60)
    worker.run_pending()
    assert sample_jobs.CALLS == ["hourly"] * 2
    time_travel.advance(dt.timedelta(hours=5))  # no worker for 5 hours: made up once
    worker.run_pending()
    assert sample_jobs.CALLS == ["hourly"] * 3
    run = PeriodicRun.objects.get(pk=hourly)
    assert run.runs == 3 and run.next_run_at == clock.now() + dt.timedelta(hours=1)


def test_two_schedulers_enqueue_a_due_run_once(time_travel: clock.Trip, hourly: str) -> None:
    assert worker.schedule_due() == [hourly]
    assert worker.schedule_due() == []
    assert DBTaskResult.objects.filter(task_path__endswith="hourly_probe").count() == 1


def test_a_run_still_queued_is_not_queued_again(time_travel: clock.Trip, hourly: str) -> None:
    assert worker.schedule_due() == [hourly]
    time_travel.advance(dt.timedelta(hours=1))
    assert worker.schedule_due() == []  # the first run has not run yet
    assert DBTaskResult.objects.filter(task_path__endswith="hourly_probe").count() == 1


def test_an_rrule_schedule_runs_on_its_occurrences(time_travel: clock.Trip) -> None:
    time_travel.to("2026-06-15T06:30:00Z")
    jobs.periodic("test.daily7", rrule="FREQ=DAILY;BYHOUR=7;BYMINUTE=0;BYSECOND=0")(
        sample_jobs.hourly_probe
    )
    try:
        assert worker.schedule_due() == []
        run = PeriodicRun.objects.get(pk="test.daily7")
        assert run.next_run_at == dt.datetime(2026, 6, 15, 7, tzinfo=dt.UTC)
        time_travel.to("2026-06-15T07:00:00Z")
        assert worker.schedule_due() == ["test.daily7"]
        run.refresh_from_db()
        assert run.next_run_at == dt.datetime(2026, 6, 16, 7, tzinfo=dt.UTC)
    finally:
        jobs.unregister_periodic("test.daily7")


def test_bad_schedules_are_refused_clearly() -> None:
    with pytest.raises(ValidationError, match="is not an RRULE"):
        jobs.periodic("bad.rule", rrule="FREQ=SOMETIMES")
    with pytest.raises(ValidationError, match="never fires again"):
        jobs.periodic("bad.past", rrule="FREQ=DAILY;UNTIL=20200101T000000Z")
    with pytest.raises(ValidationError, match="one of every= or rrule="):
        jobs.periodic("bad.none")
    with pytest.raises(ValidationError, match="must be positive"):
        jobs.periodic("bad.zero", every=dt.timedelta(0))


def test_a_periodic_guard_skips_runs_with_nothing_to_do(time_travel: clock.Trip) -> None:
    work: list[bool] = []
    jobs.periodic("test.guarded", every=dt.timedelta(minutes=1), when=lambda: bool(work))(
        sample_jobs.hourly_probe
    )
    try:
        assert worker.schedule_due() == []  # nothing to do: no job row at all
        assert not DBTaskResult.objects.exists()
        work.append(True)
        assert worker.schedule_due() == []  # not due again until a minute has passed
        time_travel.advance(seconds=60)
        assert worker.schedule_due() == ["test.guarded"]
    finally:
        jobs.unregister_periodic("test.guarded")


def test_worker_once_reports_its_outcomes_as_json(cli) -> None:  # type: ignore[no-untyped-def]
    jobs.enqueue(sample_jobs.record, tag="j")
    code, out, err = cli("worker", "--once", "--concurrency", "1", "--json")  # inline
    assert code == 0, err
    assert json.loads(out) == {"ran": 1, "succeeded": 1, "failed": 0, "retry": 0}
    assert sample_jobs.CALLS == ["j"]
    code, out, _ = cli("worker", "--once", "--concurrency", "1")
    assert out.strip() == "ran 0 job(s): 0 succeeded, 0 failed, 0 to retry"
