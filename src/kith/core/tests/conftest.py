"""The job tests count what the worker runs: only the periodic jobs they register count.

Apps register their own periodic jobs when they load (the rules' drain and scan, ...);
inside these tests the schedule holds only the tests' own (in this process, and in the
worker processes the tests start, through ``KITH_PERIODIC_ONLY``).
"""

from __future__ import annotations

import pytest

from kith.core import jobs, worker


@pytest.fixture(autouse=True)
def _only_the_tests_periodic_jobs(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker.discover()  # every app's jobs module registers now, not into the emptied schedule
    monkeypatch.setattr(jobs, "_PERIODIC", {})
    env = getattr(request.module, "ENV", None)
    if isinstance(env, dict):
        monkeypatch.setitem(env, "KITH_PERIODIC_ONLY", "test.")
