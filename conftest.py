"""Test-wide fixtures: every test gets a database (rolled back after it)."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django.apps import apps

from kith.accounts import throttle
from kith.cli.main import run
from kith.core.clock import travel

if TYPE_CHECKING:
    from kith.core.clock import Trip

# The tests' webhook receivers listen on loopback, which Kith refuses unless allowed
# (kith.webhooks.transport); the tests of that refusal clear this themselves.
os.environ.setdefault("KITH_WEBHOOK_ALLOW", "loopback")


@pytest.fixture(autouse=True)
def _database(request: pytest.FixtureRequest, db: None) -> None:
    """Give every test the database; pytest-django rolls it back afterwards.

    A transactional test (``django_db(transaction=True)``) ends by emptying every table,
    the built-in record and relationship types that migrations seed included; so each
    transactional test first puts those back, whatever ran before it.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        for app in ("records", "relationships", "plans"):
            importlib.import_module(f"kith.{app}.migrations.0002_builtin_types").create(apps, None)


@pytest.fixture
def time_travel() -> Iterator[Trip]:
    """Hold Kith's clock at 2026-06-15 12:00 UTC; move it with ``.to()`` or ``.advance(days=1)``."""
    with travel("2026-06-15T12:00:00Z") as trip:
        yield trip


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run the ``kith`` CLI in-process: ``code, out, err = cli("show", "x")``."""

    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


@pytest.fixture(autouse=True)
def _fresh_rate_tallies() -> None:
    """Each test starts with no rate-limit hits held in this process: the database rolls
    back between tests, so ids (and counter keys) recur, and old hits would count again."""
    with throttle._LOCK:
        throttle._TALLIES.clear()


# Per-process caches keyed on the data versions (kith.core.counters). Each test's database
# rolls back, counters with it, so a later test reaches the same version with other data.
_VERSION_CACHES = (
    ("kith.intelligence.selectors", "_PAST"),
    ("kith.network.graph", "_cache"),
    ("kith.intelligence.attention", "_memo_cache"),
    ("kith.tasks.cadence_selectors", "_cache"),
)


@pytest.fixture(autouse=True)
def _fresh_version_caches() -> None:
    """Each test starts with empty version-keyed caches (see ``_VERSION_CACHES``)."""
    for module, name in _VERSION_CACHES:
        cache = getattr(sys.modules.get(module), name, None)
        if cache is not None:
            cache.clear()
