"""Rows as JSON: every model field turned into a JSON value and back, without loss.

Used by backups (one JSON array per row) and by merge snapshots (one object per row).
Values are read with the ORM, so they are the same Python values on SQLite and
PostgreSQL; datetimes are written in UTC with microseconds, dates as ISO dates.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import models


def columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The concrete fields of ``model`` in declaration order (primary key first)."""
    fields = list(model._meta.concrete_fields)
    pk = model._meta.pk
    return sorted(fields, key=lambda f: 0 if f is pk else 1)


def _kind(field: models.Field[Any, Any]) -> str:
    if isinstance(field, models.JSONField):
        return "json"
    internal = field.get_internal_type()
    if internal == "DateTimeField":
        return "datetime"
    if internal == "DateField":
        return "date"
    if internal == "TimeField":
        return "time"
    if internal == "DurationField":
        return "duration"
    if internal == "DecimalField":
        return "decimal"
    if internal == "UUIDField":
        return "uuid"
    if internal == "BinaryField":
        return "binary"
    return "plain"


def _enc_datetime(v: dt.datetime) -> str:
    if v.tzinfo is not None:
        v = v.astimezone(dt.UTC)
    return v.isoformat()


_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "json": lambda v: v,
    "datetime": _enc_datetime,
    "date": lambda v: v.isoformat(),
    "time": lambda v: v.isoformat(),
    "duration": lambda v: v.total_seconds(),
    "decimal": str,
    "uuid": str,
    "binary": lambda v: base64.b64encode(bytes(v)).decode("ascii"),
    "plain": lambda v: v,
}
_DECODERS: dict[str, Callable[[Any], Any]] = {
    "json": lambda v: v,
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "duration": lambda v: dt.timedelta(seconds=v),
    "decimal": decimal.Decimal,
    "uuid": uuid.UUID,
    "binary": base64.b64decode,
    "plain": lambda v: v,
}


def encoders(fields: Sequence[models.Field[Any, Any]]) -> list[Callable[[Any], Any]]:
    return [_ENCODERS[_kind(f)] for f in fields]


def decoders(fields: Sequence[models.Field[Any, Any]]) -> list[Callable[[Any], Any]]:
    return [_DECODERS[_kind(f)] for f in fields]


def encode_row(row: Sequence[Any], encs: Sequence[Callable[[Any], Any]]) -> list[Any]:
    """Turn one ``values_list`` row into a JSON-ready list (``None`` stays ``None``)."""
    return [None if v is None else enc(v) for v, enc in zip(row, encs, strict=True)]


def decode_row(row: Sequence[Any], decs: Sequence[Callable[[Any], Any]]) -> list[Any]:
    return [None if v is None else dec(v) for v, dec in zip(row, decs, strict=True)]


def dump_rows(model: type[models.Model], query: models.Q | None = None) -> list[dict[str, Any]]:
    """Every row of ``model`` matching ``query`` as ``{attname: json value}``, by primary key."""
    fields = columns(model)
    names = [f.attname for f in fields]
    encs = encoders(fields)
    qs = model._default_manager.all()
    if query is not None:
        qs = qs.filter(query)
    return [
        dict(zip(names, encode_row(row, encs), strict=True))
        for row in qs.order_by("pk").values_list(*names)
    ]


def load_rows(model: type[models.Model], rows: Iterable[dict[str, Any]]) -> int:
    """Put rows back exactly as dumped: update the row with that key, else insert it."""
    fields = {f.attname: f for f in columns(model)}
    count = 0
    for row in rows:
        values = {
            name: (None if v is None else _DECODERS[_kind(fields[name])](v))
            for name, v in row.items()
        }
        pk_name = model._meta.pk.attname
        pk = values[pk_name]
        rest = {k: v for k, v in values.items() if k != pk_name}
        updated = model._default_manager.filter(pk=pk).update(**rest)
        if not updated:
            model._default_manager.bulk_create([model(**values)])
        count += 1
    return count


def db_adapters(
    fields: Sequence[models.Field[Any, Any]], connection: Any
) -> list[Callable[[Any], Any]]:
    """Per field: a JSON value (not ``None``) to the parameter the database takes.

    Plain values go as they are; dates, times and JSON get the same adaptation Django
    applies, written out for speed (restores send millions of values).
    """
    sqlite = connection.vendor == "sqlite"

    def sqlite_datetime(v: str) -> str:
        value = dt.datetime.fromisoformat(v)
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return str(value)  # Django's SQLite format: naive UTC, ISO with a space

    def sqlite_date(v: str) -> str:
        return str(dt.date.fromisoformat(v))

    def json_value(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
        encoder = getattr(field, "encoder", None)
        return lambda v: connection.ops.adapt_json_value(v, encoder)

    def generic(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
        dec = _DECODERS[_kind(field)]
        return lambda v: field.get_db_prep_save(dec(v), connection)

    out: list[Callable[[Any], Any]] = []
    for f in fields:
        kind = _kind(f)
        if kind == "plain":
            out.append(_identity)
        elif kind == "json":
            out.append(json_value(f))
        elif kind == "datetime":
            out.append(sqlite_datetime if sqlite else dt.datetime.fromisoformat)
        elif kind == "date":
            out.append(sqlite_date if sqlite else dt.date.fromisoformat)
        else:
            out.append(generic(f))
    return out


def _identity(v: Any) -> Any:
    return v
