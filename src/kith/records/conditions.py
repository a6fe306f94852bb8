"""The condition language: one JSON shape, compiled to a query and to a Python predicate.

A condition is a leaf ``{"field": F, "op": OP, "value": V}`` or a group ``{"all": [...]}``,
``{"any": [...]}``, ``{"not": {...}}``. ``parse`` checks it against the record types' fields
(an unknown field or operator, or a value of the wrong type, is a ``ValidationError`` naming
its path, e.g. ``conditions.all[2].op: unknown operator 'equals'``) and returns a
``Condition`` with two compilations of the same meaning:

- ``q(today=)``: a ``Q`` over ``Record`` (custom fields read from the ``fields`` JSON), the
  same SQL on SQLite and PostgreSQL;
- ``matches(snapshot, today=)`` / ``explain``: a predicate over ``snapshot(record)`` (a dict;
  rules add ``changes`` for change events), with each leaf's inputs and result.

Meaning, identical in both (a property test runs both on both databases):

- A missing value (the field not set, or not a field of that record's type) satisfies no
  comparison (``eq``, ``lt``, ``in``, ``contains`` ... are false); ``ne`` is ``not eq``, so a
  missing value is ``ne`` anything; ``is_empty`` is true for missing and ``""``.
- Text: ``eq``, ``ne``, ``in``, ``contains`` and ``starts_with`` ignore the case of the
  letters A-Z (other characters compare exactly); ``"case_sensitive": true`` makes them
  exact. ``lt``/``lte``/``gt``/``gte`` order text by code point, case included.
- Numbers compare as floating point. Booleans only ``eq``/``ne``/``is_empty``.
- Dates (``YYYY-MM-DD``) compare as dates; ``created_at``/``updated_at`` compare by their UTC
  day. ``within_days: N`` is a day in the last N days up to today, ``within_next_days: N``
  today up to N days ahead, ``older_than_days: N`` before today minus N days.
- ``changed`` (with optional ``from``/``to``) reads the change an event carries; it has no
  meaning in a query, so ``q`` refuses it (``uses_changes`` tells the caller beforehand).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db.models import (
    BooleanField,
    CharField,
    F,
    FloatField,
    Func,
    Q,
    TextField,
    Value,
)
from django.db.models.expressions import Combinable
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, StrIndex, Substr
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
)

from kith.core import clock
from kith.core.errors import ValidationError
from kith.records.models import FieldDef, Record, RecordType

TEXT, NUMBER, DATE, DATETIME, BOOL = "text", "number", "date", "datetime", "bool"
_KIND_OF = {
    "text": TEXT,
    "choice": TEXT,
    "email": TEXT,
    "url": TEXT,
    "number": NUMBER,
    "date": DATE,
    "bool": BOOL,
}
# built-in attributes of every record: name -> (kind, column)
BUILTINS: dict[str, tuple[str, str]] = {
    "id": (TEXT, "id"),
    "type": (TEXT, "type_id"),
    "name": (TEXT, "name"),
    "created_at": (DATETIME, "created_at"),
    "updated_at": (DATETIME, "updated_at"),
    "private": (BOOL, "private"),
}
_ORDER = ("lt", "lte", "gt", "gte")
_DAYS = ("within_days", "within_next_days", "older_than_days")
OPS: dict[str, tuple[str, ...]] = {
    TEXT: ("eq", "ne", "in", "contains", "starts_with", "is_empty", *_ORDER, "changed"),
    NUMBER: ("eq", "ne", "in", "is_empty", *_ORDER, "changed"),
    DATE: ("eq", "ne", "in", "is_empty", *_ORDER, *_DAYS, "changed"),
    DATETIME: ("eq", "ne", "in", "is_empty", *_ORDER, *_DAYS, "changed"),
    BOOL: ("eq", "ne", "is_empty", "changed"),
}
ALL_OPS = sorted({op for ops in OPS.values() for op in ops})
_LEAF_KEYS = {"field", "op", "value", "case_sensitive", "from", "to"}
MAX_DEPTH = 12
MAX_NODES = 500
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """Lower-case the letters A-Z only: the case rule both compilations share."""
    return text.translate(_ASCII_LOWER)


# -- SQL helpers ----------------------------------------------------------------------------


class _CodePoint(Func):
    """Text compared by code point: ``COLLATE "C"`` on PostgreSQL (SQLite's default already)."""

    template = "%(expressions)s"
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template='(%(expressions)s) COLLATE "C"', **extra)


class _Fold(Func):
    """Lower-case A-Z only: SQLite's LOWER() (without ICU) is exactly that; PostgreSQL's
    LOWER() follows the locale, so it translates the 26 letters instead."""

    function = "LOWER"
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        return self.as_sql(
            compiler,
            connection,
            template=f"TRANSLATE(%(expressions)s, '{upper}', '{upper.lower()}')",
            **extra,
        )


def _sql_fold(expr: Any) -> Any:
    return _Fold(expr)


class _JsonBool(Func):
    """A JSON boolean as SQL 1/0 (NULL when absent or not a boolean), alike on both databases."""

    output_field = BooleanField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"CASE json_type({sql}, %s) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END",
            [*params, self.extra["path"]],
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"CASE jsonb_typeof(({sql}) -> %s) WHEN 'boolean' THEN (({sql}) ->> %s) = 'true' END",
            [*params, self.extra["key"], *params, self.extra["key"]],
        )


def _json_path(name: str) -> str:
    return f'$."{name}"'


# -- the tree ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Field:
    """A field a condition reads: a built-in attribute or a custom field (by name)."""

    name: str
    kind: str
    custom: bool
    choices: tuple[str, ...] = ()

    def sql(self) -> Any:
        """The SQL value of the field, typed for its kind (NULL when missing)."""
        if not self.custom:
            return F(BUILTINS[self.name][1])
        if self.kind == BOOL:
            return _JsonBool(F("fields"), path=_json_path(self.name), key=self.name)
        text = KT(f"fields__{self.name}")
        if self.kind == NUMBER:
            return Cast(text, FloatField())
        return Cast(text, TextField())

    def read(self, snap: Mapping[str, Any]) -> Any:
        """The Python value of the field in a snapshot (``None`` when missing)."""
        source = (snap.get("fields") or {}) if self.custom else snap
        value = source.get(self.name)
        return _py_value(self.kind, value)


def _py_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)
    if kind == BOOL:
        return value if isinstance(value, bool) else None
    if kind == DATETIME:
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return value.astimezone(dt.UTC).date() if isinstance(value, dt.datetime) else None
    if kind == DATE:
        if isinstance(value, dt.date):
            return value.isoformat()
        return value if isinstance(value, str) else None
    return value if isinstance(value, str) else None


@dataclasses.dataclass(frozen=True)
class Leaf:
    path: str
    field: Field
    op: str
    value: Any = None
    case_sensitive: bool = False
    from_: Any = dataclasses.field(default=None)
    to: Any = dataclasses.field(default=None)
    has_from: bool = False
    has_to: bool = False


@dataclasses.dataclass(frozen=True)
class Group:
    path: str
    kind: str  # all / any / not
    children: tuple[Node, ...]


Node = Leaf | Group


# -- parsing and validation -----------------------------------------------------------------


def known_fields(type_keys: Iterable[str] | None = None) -> dict[str, Field]:
    """Every field a condition may name (built-ins and the custom fields of ``type_keys``)."""
    fields = {name: Field(name, kind, False) for name, (kind, _) in BUILTINS.items()}
    defs = FieldDef.objects.all()
    if type_keys is not None:
        defs = defs.filter(record_type_id__in=list(type_keys))
    kinds: dict[str, set[str]] = {}
    choices: dict[str, dict[str, None]] = {}
    for d in defs:
        kinds.setdefault(d.name, set()).add(_KIND_OF[d.kind])
        choices.setdefault(d.name, {}).update(
            dict.fromkeys(d.choices if d.kind == "choice" else [])
        )
    for name, ks in kinds.items():
        if name in fields:
            continue
        kind = ks.pop() if len(ks) == 1 else "conflict:" + "/".join(sorted(ks))
        fields[name] = Field(name, kind, True, tuple(choices[name]))
    return fields


def parse(
    data: Any,
    *,
    path: str = "conditions",
    fields: Mapping[str, Field] | None = None,
    allow_changes: bool = True,
) -> Condition:
    """Validate a JSON condition and return it compiled; errors name the JSON path."""
    catalogue = dict(fields) if fields is not None else known_fields()
    types = set(RecordType.objects.values_list("key", flat=True))
    counter = [0]
    root = _parse(data, path, catalogue, types, counter, 0, allow_changes)
    return Condition(root, data)


def _parse(
    data: Any,
    path: str,
    catalogue: Mapping[str, Field],
    types: set[str],
    counter: list[int],
    depth: int,
    allow_changes: bool,
) -> Node:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise ValidationError(f"{path}: more than {MAX_NODES} conditions", field=path)
    if depth > MAX_DEPTH:
        raise ValidationError(f"{path}: nested deeper than {MAX_DEPTH} levels", field=path)
    if not isinstance(data, dict):
        raise ValidationError(
            f"{path}: a condition is an object such as "
            '{"field": "type", "op": "eq", "value": "person"}, not ' + _show(data),
            field=path,
        )
    groups = [k for k in ("all", "any", "not") if k in data]
    if groups:
        if len(data) != 1:
            extra = sorted(k for k in data if k != groups[0])
            raise ValidationError(
                f"{path}: a {groups[0]!r} group takes no other keys (found {', '.join(extra)})",
                field=path,
            )
        key = groups[0]
        inner = data[key]
        if key == "not":
            child = _parse(
                inner, f"{path}.not", catalogue, types, counter, depth + 1, allow_changes
            )
            return Group(path, "not", (child,))
        if not isinstance(inner, list):
            raise ValidationError(
                f"{path}.{key}: expected a list of conditions, not {_show(inner)}",
                field=f"{path}.{key}",
            )
        children = tuple(
            _parse(c, f"{path}.{key}[{i}]", catalogue, types, counter, depth + 1, allow_changes)
            for i, c in enumerate(inner)
        )
        return Group(path, key, children)
    unknown = sorted(set(data) - _LEAF_KEYS)
    if unknown:
        raise ValidationError(
            f"{path}.{unknown[0]}: unknown key {unknown[0]!r} (a condition has field, op, value, "
            "case_sensitive, from, to; or is an all/any/not group)",
            field=f"{path}.{unknown[0]}",
        )
    name = data.get("field")
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{path}.field: a field name is required", field=f"{path}.field")
    fname = name.removeprefix("fields.")
    field = catalogue.get(fname)
    if field is None:
        known = ", ".join(sorted(catalogue))
        raise ValidationError(
            f"{path}.field: unknown field {name!r} (fields: {known})", field=f"{path}.field"
        )
    if field.kind.startswith("conflict:"):
        raise ValidationError(
            f"{path}.field: {name!r} is a {field.kind[9:]} field in different record types; "
            "it cannot be compared as one kind",
            field=f"{path}.field",
        )
    op = data.get("op")
    if not isinstance(op, str) or op not in ALL_OPS:
        raise ValidationError(
            f"{path}.op: unknown operator {op!r} (operators: {', '.join(ALL_OPS)})",
            field=f"{path}.op",
        )
    if op not in OPS[field.kind]:
        raise ValidationError(
            f"{path}.op: {op!r} does not apply to {field.kind} field {name!r} "
            f"(it takes {', '.join(OPS[field.kind])})",
            field=f"{path}.op",
        )
    if op == "changed" and not allow_changes:
        raise ValidationError(
            f"{path}.op: 'changed' reads a change event; this condition has none",
            field=f"{path}.op",
        )
    case = data.get("case_sensitive", False)
    if not isinstance(case, bool):
        raise ValidationError(
            f"{path}.case_sensitive: expected true or false, not {_show(case)}",
            field=f"{path}.case_sensitive",
        )
    vpath = f"{path}.value"
    if op == "changed":
        if "value" in data:
            raise ValidationError(f"{vpath}: 'changed' takes from/to, not value", field=vpath)
        out = {}
        for key in ("from", "to"):
            if key in data:
                out[key] = (
                    None
                    if data[key] is None
                    else _check_value(field, data[key], f"{path}.{key}", types)
                )
        return Leaf(
            path,
            field,
            op,
            case_sensitive=case,
            from_=out.get("from"),
            to=out.get("to"),
            has_from="from" in data,
            has_to="to" in data,
        )
    for key in ("from", "to"):
        if key in data:
            raise ValidationError(
                f"{path}.{key}: only 'changed' takes {key}", field=f"{path}.{key}"
            )
    raw = data.get("value")
    if op == "is_empty":
        if raw is None:
            raw = True
        if not isinstance(raw, bool):
            raise ValidationError(f"{vpath}: expected true or false, not {_show(raw)}", field=vpath)
        return Leaf(path, field, op, raw)
    if "value" not in data or raw is None:
        raise ValidationError(
            f"{vpath}: {op!r} needs a value (to test for a missing value use is_empty)",
            field=vpath,
        )
    if op in _DAYS:
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 36_500:
            raise ValidationError(
                f"{vpath}: {op!r} takes a whole number of days (0 to 36500), not {_show(raw)}",
                field=vpath,
            )
        return Leaf(path, field, op, raw)
    if op == "in":
        if not isinstance(raw, list) or not raw or len(raw) > 1000:
            raise ValidationError(
                f"{vpath}: 'in' takes a list of 1 to 1000 values, not {_show(raw)}", field=vpath
            )
        values = tuple(
            _check_value(field, v, f"{vpath}[{i}]", types, op=op) for i, v in enumerate(raw)
        )
        return Leaf(path, field, op, values, case_sensitive=case)
    if op in ("contains", "starts_with") and not isinstance(raw, str):
        raise ValidationError(f"{vpath}: {op!r} takes text, not {_show(raw)}", field=vpath)
    value = _check_value(field, raw, vpath, types, op=op)
    return Leaf(path, field, op, value, case_sensitive=case)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_value(field: Field, raw: Any, path: str, types: set[str], *, op: str = "eq") -> Any:
    """The value a condition compares with, checked against the field's kind."""
    kind = field.kind
    if kind == TEXT:
        if not isinstance(raw, str):
            raise ValidationError(
                f"{path}: {field.name} is a text field; expected text, not {_show(raw)}",
                field=path,
            )
        if "\x00" in raw or len(raw) > 1000:
            raise ValidationError(
                f"{path}: text longer than 1000 characters or with NUL", field=path
            )
        if op in ("eq", "ne", "in") and field.name == "type" and raw not in types:
            raise ValidationError(
                f"{path}: unknown record type {raw!r} (types: {', '.join(sorted(types))})",
                field=path,
            )
        if (
            op in ("eq", "ne", "in")
            and field.choices
            and fold(raw) not in {fold(c) for c in field.choices}
        ):
            raise ValidationError(
                f"{path}: {raw!r} is not one of {', '.join(field.choices)}", field=path
            )
        return raw
    if kind == NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:
            raise ValidationError(
                f"{path}: {field.name} is a number field; expected a number, not {_show(raw)}",
                field=path,
            )
        if raw in (float("inf"), float("-inf")):
            raise ValidationError(f"{path}: expected a finite number", field=path)
        return float(raw)
    if kind == BOOL:
        if not isinstance(raw, bool):
            raise ValidationError(
                f"{path}: {field.name} is true or false, not {_show(raw)}", field=path
            )
        return raw
    # dates
    if not isinstance(raw, str):
        raise ValidationError(
            f"{path}: {field.name} is a date; expected YYYY-MM-DD, not {_show(raw)}", field=path
        )
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(
            f"{path}: {raw!r} is not a date (expected YYYY-MM-DD)", field=path
        ) from None
    if len(raw) != 10:
        raise ValidationError(f"{path}: {raw!r} is not a date (expected YYYY-MM-DD)", field=path)
    return day


# -- the compiled condition -----------------------------------------------------------------


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


class Condition:
    """A parsed condition: ``q()`` for the database, ``matches()`` for a snapshot."""

    def __init__(self, root: Node, source: Any) -> None:
        self.root = root
        self.source = source

    # - what it reads
    def leaves(self) -> list[Leaf]:
        """Every comparison, in order."""
        out: list[Leaf] = []

        def walk(node: Node) -> None:
            if isinstance(node, Leaf):
                out.append(node)
            else:
                for child in node.children:
                    walk(child)

        walk(self.root)
        return out

    @property
    def fields(self) -> set[str]:
        """The names of the fields it reads."""
        return {leaf.field.name for leaf in self.leaves()}

    @property
    def uses_changes(self) -> bool:
        """Whether it reads a change event (``changed``), which a query cannot."""
        return any(leaf.op == "changed" for leaf in self.leaves())

    # - the database
    def q(self, *, today: dt.date | None = None) -> Q:
        """A filter on ``Record`` that selects exactly the records ``matches`` accepts."""
        return _q(self.root, today or clock.today())

    def filter(self, qs: Any, *, today: dt.date | None = None) -> Any:
        """``qs`` (of records) narrowed to the matching records."""
        return qs.filter(self.q(today=today))

    # - Python
    def matches(self, snap: Mapping[str, Any], *, today: dt.date | None = None) -> bool:
        """Whether the snapshot satisfies the condition."""
        return _eval(self.root, snap, today or clock.today(), None)

    def explain(
        self, snap: Mapping[str, Any], *, today: dt.date | None = None
    ) -> tuple[bool, list[dict[str, Any]]]:
        """The result, and each comparison with its inputs and result (in evaluation order)."""
        trace: list[dict[str, Any]] = []
        result = _eval(self.root, snap, today or clock.today(), trace)
        return result, trace


def _true() -> Q:
    return Q(pk__isnull=False)


def _q(node: Node, today: dt.date) -> Q:
    if isinstance(node, Group):
        if node.kind == "not":
            return ~_q(node.children[0], today)
        if not node.children:
            return _true() if node.kind == "all" else ~_true()
        parts = [_q(c, today) for c in node.children]
        out = parts[0]
        for p in parts[1:]:
            out = (out & p) if node.kind == "all" else (out | p)
        return out
    return _leaf_q(node, today)


def _leaf_q(leaf: Leaf, today: dt.date) -> Q:
    field, op, value = leaf.field, leaf.op, leaf.value
    if op == "changed":
        raise ValidationError(
            f"{leaf.path}.op: 'changed' reads a change event and has no meaning in a query",
            field=f"{leaf.path}.op",
        )
    expr = field.sql()
    present = Q(IsNull(expr, False))
    if op == "is_empty":
        empty = Q(IsNull(expr, True))
        if field.kind == TEXT:
            empty |= Q(Exact(expr, Value("")))
        return empty if value else ~empty
    if op == "ne":
        return ~_leaf_q(dataclasses.replace(leaf, op="eq"), today)
    if field.kind == DATETIME:
        return present & _datetime_q(expr, op, value, today)
    if field.kind == DATE:
        return present & _date_q(expr, op, value, today)
    if field.kind == BOOL:
        return present & Q(Exact(expr, Value(value)))
    if field.kind == NUMBER:
        if op == "in":
            return present & Q(In(expr, [Value(float(v)) for v in value]))
        return present & Q(_COMPARE[op](expr, Value(value, output_field=FloatField())))
    # text
    if op in _ORDER:
        return present & Q(
            _COMPARE[op](_CodePoint(expr), _CodePoint(Value(value, output_field=TextField())))
        )

    def norm(text: str) -> str:
        return text if leaf.case_sensitive else fold(text)

    subject: Combinable = expr if leaf.case_sensitive else _sql_fold(expr)
    if op == "in":
        return present & Q(In(subject, [Value(norm(v), output_field=TextField()) for v in value]))
    if op == "eq":
        return present & Q(Exact(subject, Value(norm(value), output_field=TextField())))
    needle = norm(value)
    if not needle:
        return present
    if op == "contains":
        return present & Q(GreaterThan(StrIndex(subject, Value(needle)), 0))
    # starts_with
    head = Substr(subject, 1, len(needle), output_field=CharField())
    return present & Q(Exact(head, Value(needle, output_field=TextField())))


_COMPARE: dict[str, Callable[..., Any]] = {
    "eq": Exact,
    "lt": LessThan,
    "lte": LessThanOrEqual,
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
}


_EMPTY = (dt.date.max, dt.date.min)  # a range no day is in


def _shift(day: dt.date, days: int) -> dt.date | None:
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return None


def _safe_range(op: str, value: Any, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The days [low, high] an operator accepts (None: unbounded; ``_EMPTY``: none)."""
    if op == "within_days":
        return _shift(today, -value), today
    if op == "within_next_days":
        return today, _shift(today, value)
    if op == "older_than_days":
        high = _shift(today, -value - 1)
        return _EMPTY if high is None else (None, high)
    if op == "eq":
        return value, value
    if op == "lte":
        return None, value
    if op == "gte":
        return value, None
    if op == "lt":
        high = _shift(value, -1)
        return _EMPTY if high is None else (None, high)
    low = _shift(value, 1)  # gt
    return _EMPTY if low is None else (low, None)


def _date_q(expr: Any, op: str, value: Any, today: dt.date) -> Q:
    if op == "in":
        return Q(In(expr, [Value(d.isoformat(), output_field=TextField()) for d in value]))
    low, high = _safe_range(op, value, today)
    if (low, high) == _EMPTY:
        return ~_true()
    out = _true()
    if low is not None:
        out &= Q(GreaterThanOrEqual(expr, Value(low.isoformat(), output_field=TextField())))
    if high is not None:
        out &= Q(LessThanOrEqual(expr, Value(high.isoformat(), output_field=TextField())))
    return out


def _datetime_q(expr: Any, op: str, value: Any, today: dt.date) -> Q:
    if op == "in":
        out = ~_true()
        for day in value:
            out |= _datetime_q(expr, "eq", day, today)
        return out
    low, high = _safe_range(op, value, today)
    if (low, high) == _EMPTY:
        return ~_true()
    out = _true()
    if low is not None:
        out &= Q(GreaterThanOrEqual(expr, Value(_midnight(low))))
    if high is not None:
        end = _shift(high, 1)
        if end is not None:
            out &= Q(LessThan(expr, Value(_midnight(end))))
    return out
    return out


# -- the predicate --------------------------------------------------------------------------


def _eval(node: Node, snap: Mapping[str, Any], today: dt.date, trace: list[Any] | None) -> bool:
    if isinstance(node, Group):
        if node.kind == "not":
            return not _eval(node.children[0], snap, today, trace)
        if node.kind == "all":
            return all(_eval(c, snap, today, trace) for c in node.children)
        return any(_eval(c, snap, today, trace) for c in node.children)
    actual, result = _leaf_eval(node, snap, today)
    if trace is not None:
        entry: dict[str, Any] = {
            "path": node.path,
            "field": node.field.name,
            "op": node.op,
            "actual": _jsonable(actual),
            "result": result,
        }
        if node.op == "changed":
            entry.update({"from": _jsonable(node.from_), "to": _jsonable(node.to)})
        else:
            entry["value"] = _jsonable(node.value)
        trace.append(entry)
    return result


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def _leaf_eval(leaf: Leaf, snap: Mapping[str, Any], today: dt.date) -> tuple[Any, bool]:
    if leaf.op == "changed":
        return _changed(leaf, snap)
    actual = leaf.field.read(snap)
    return actual, _compare(leaf, actual, today)


def _compare(leaf: Leaf, actual: Any, today: dt.date) -> bool:
    field, op, value = leaf.field, leaf.op, leaf.value
    if op == "is_empty":
        empty = actual is None or actual == ""
        return empty if value else not empty
    if op == "ne":
        return not _compare(dataclasses.replace(leaf, op="eq"), actual, today)
    if actual is None:
        return False
    if field.kind in (DATE, DATETIME):
        day = actual if isinstance(actual, dt.date) else _as_day(actual)
        if day is None:
            return False
        if op == "in":
            return day in value
        low, high = _safe_range(op, value, today)
        return (low is None or day >= low) and (high is None or day <= high)
    if field.kind in (BOOL, NUMBER):
        if op == "in":
            return actual in value
        return bool(_PY[op](actual, value))
    if op in _ORDER:
        return bool(_PY[op](actual, value))

    def norm(text: str) -> str:
        return text if leaf.case_sensitive else fold(text)

    subject = norm(actual)
    if op == "in":
        return subject in {norm(v) for v in value}
    if op == "eq":
        return subject == norm(value)
    if op == "contains":
        return norm(value) in subject
    return subject.startswith(norm(value))


def _as_day(text: str) -> dt.date | None:
    """A stored date string as a date; stored dates are ISO, so compare them as text."""
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


_PY: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
}


def _changed(leaf: Leaf, snap: Mapping[str, Any]) -> tuple[Any, bool]:
    changes = snap.get("changes") or {}
    key = f"fields.{leaf.field.name}" if leaf.field.custom else leaf.field.name
    if key not in changes:
        return None, False
    old, new = changes[key]
    old_v, new_v = _py_value(leaf.field.kind, old), _py_value(leaf.field.kind, new)
    seen = {"from": _jsonable(old_v), "to": _jsonable(new_v)}

    def same(actual: Any, wanted: Any) -> bool:
        if wanted is None:
            return actual is None
        probe = dataclasses.replace(leaf, op="eq", value=wanted)
        return _compare(probe, actual, clock.today())

    ok = True
    if leaf.has_from:
        ok = ok and same(old_v, leaf.from_)
    if leaf.has_to:
        ok = ok and same(new_v, leaf.to)
    return seen, ok


# -- snapshots ------------------------------------------------------------------------------


def snapshot(record: Record) -> dict[str, Any]:
    """What a predicate reads of a record: its built-in attributes and custom fields."""
    return {
        "id": record.id,
        "type": record.type_id,
        "name": record.name,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "private": record.private,
        "fields": dict(record.fields or {}),
    }
