"""Upgrading keeps the data versions (now core counters) and builds a never-built pair table."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kith.core.models import Counter
from kith.intelligence.models import PairStat
from kith.intelligence.services import data_version, history_version
from kith.testing import log, make_home, make_person

BEFORE = [("intelligence", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_carries_the_versions_and_builds_the_pair_table() -> None:
    mia = make_person("Mia Team", org=make_home(), since="2020-01-01")
    log("call", mia, make_person("Jane Doe"), at="2026-01-05T10:00:00+00:00")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    state = executor.loader.project_state(BEFORE).apps.get_model("intelligence", "IntelState")
    state.objects.update_or_create(key="data_version", defaults={"value": "41"})
    state.objects.update_or_create(key="history_version", defaults={"value": "7"})
    state.objects.filter(key="pairstats_built").delete()
    PairStat.objects.all().delete()  # as in a workspace whose first read never came
    Counter.objects.all().delete()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    # the build moved both, and 0008 rebuilt the table again (negative interactions) and moved both
    assert (data_version(), history_version()) == ("43", "9")
    assert not state.objects.filter(key__in=["data_version", "history_version"]).exists()
    assert PairStat.objects.filter(member_id=mia.id).count() == 1
