"""Reads never write: scores, rankings and the network are read from what writes maintain."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kith.accounts.selectors import get_user
from kith.accounts.services import add_user
from kith.core import clock
from kith.intelligence.models import PairStat
from kith.testing import log, make_home, make_org, make_person, relate

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


def _writes(ctx: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].lstrip().upper().startswith(WRITES) and "SAVEPOINT" not in q["sql"].upper()
    ]


def _world() -> None:
    home = make_home()
    mia = make_person("Mia Team", org=home, since="2020-01-01")
    acme = make_org("Acme")
    jane = make_person("Jane Doe", org=acme, role="champion", since="2024-01-01")
    raj = make_person("Raj Roe", org=make_org("Beta"))
    relate(jane, "knows", raj)
    for days in (300, 200, 100, 40, 3):
        at = (clock.now() - dt.timedelta(days=days)).isoformat()
        log("meeting", mia, jane, at=at)


def test_the_pair_table_is_kept_by_writes_not_by_the_first_read() -> None:
    _world()
    assert PairStat.objects.exists()  # built as the interactions were logged


def test_score_and_network_reads_issue_no_writes(cli: Callable[..., tuple[int, str, str]]) -> None:
    _world()
    reads = [
        ("health", "Acme"),
        ("health", "Jane Doe"),
        ("strength", "Mia Team", "Jane Doe"),
        ("best",),
        ("at-risk",),
        ("path", "Mia Team", "Raj Roe"),
        ("map", "Jane Doe"),
        ("mutual", "Mia Team", "Raj Roe"),
        ("connectors",),
    ]
    for args in reads:
        with CaptureQueriesContext(connection) as ctx:
            code, out, err = cli(*args, "--json")
        assert code == 0, (args, err)
        json.loads(out)
        assert _writes(ctx) == [], args


def test_the_home_page_issues_no_writes() -> None:
    _world()
    add_user(email="mia@our.test", role="member", password="correct horse battery")
    client = Client()
    client.force_login(get_user("mia@our.test"))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/").status_code == 200
    assert _writes(ctx) == []
