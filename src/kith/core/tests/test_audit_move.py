"""The audit log moved from accounts to core without touching its table or rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kith.core.models import AuditEvent
from kith.core.services import audit

BEFORE = [("accounts", "0002_clock_defaults"), ("core", "0003_clock_defaults")]


def _leaves() -> list[tuple[str, str]]:
    # every app's latest migration: going back to BEFORE also unapplied the later migrations
    # of apps that depend on core (the kept scores' tables), which the tests after need
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_read_after_it() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("accounts", "AuditEvent")
    kept = old.objects.create(action="login", actor="ann@our.test", target="ann@our.test")

    executor = MigrationExecutor(connection)
    executor.migrate(_leaves())

    moved = AuditEvent.objects.get(pk=kept.pk)
    assert (moved.action, moved.actor) == ("login", "ann@our.test")
    assert AuditEvent._meta.db_table == "accounts_auditevent"
    later = audit("logout", target="ann@our.test", actor="ann@our.test")
    assert later.pk > kept.pk  # the id sequence carried on
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["logout", "login"]
