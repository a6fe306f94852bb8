"""SQL shared by the services and selectors, written for SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

from kith.intelligence.models import PairStat
from kith.interactions.models import Interaction, Participant
from kith.records.models import Record
from kith.records.selectors import home_org
from kith.relationships.models import Relationship, RelationshipType

PAIR = PairStat._meta.db_table
PART = Participant._meta.db_table
INTER = Interaction._meta.db_table
REL = Relationship._meta.db_table
RTYPE = RelationshipType._meta.db_table
REC = Record._meta.db_table


def day_expr(column: str) -> str:
    """The UTC calendar day of a datetime column."""
    if connection.vendor == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'UTC') AS date)"
    return f"date({column})"


_DATES: dict[str, dt.date] = {}


def as_date(value: Any) -> dt.date | None:
    """Dates come back as strings from SQLite aggregates and as dates from PostgreSQL."""
    if value is None or isinstance(value, dt.date):
        return value
    found = _DATES.get(value)
    if found is None:
        if len(_DATES) > 100_000:
            _DATES.clear()
        found = _DATES[value] = dt.date.fromisoformat(str(value)[:10])
    return found


def ever_team_sql() -> tuple[str, list[Any]]:
    """People who ever held a rollup tie (works_at) to the home organisation."""
    home = home_org()
    sql = (
        f"SELECT r.from_record_id FROM {REL} r JOIN {RTYPE} t ON t.{_q('key')} = r.type_key "
        f"WHERE t.rollup = %s AND r.to_record_id = %s"
    )
    return sql, [True, home.id if home else ""]


def employed_sql(org_param: bool = True) -> str:
    """People with a rollup tie (works_at) in force on a day; params: [True, day, day, (org)]."""
    org = " AND r.to_record_id = %s" if org_param else ""
    return (
        f"SELECT r.from_record_id FROM {REL} r JOIN {RTYPE} t ON t.{_q('key')} = r.type_key "
        f"WHERE t.rollup = %s AND (r.since IS NULL OR r.since <= %s) "
        f"AND (r.until IS NULL OR r.until > %s){org}"
    )


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def in_list(values: list[str]) -> tuple[str, list[Any]]:
    """``IN (...)`` placeholders for a short list (never empty)."""
    if not values:
        return "(NULL)", []
    return "(" + ", ".join(["%s"] * len(values)) + ")", list(values)
