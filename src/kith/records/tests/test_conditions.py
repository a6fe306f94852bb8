"""The condition language: errors name their path; the query and the predicate agree.

The property test generates records (custom fields of every kind, values missing, odd
case, non-ASCII text, large and fractional numbers, dates far apart) and conditions over
them, and checks that ``Condition.q()`` selects exactly the records ``matches()`` accepts.
The suite runs it on SQLite and on PostgreSQL (scripts/test).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kith.core.errors import ValidationError
from kith.records import conditions
from kith.records.conditions import parse, snapshot
from kith.records.models import Record, RecordType
from kith.records.services import add_field, add_record, define_type

TODAY = dt.date(2026, 6, 15)


@pytest.fixture
def deal_type() -> RecordType:
    return define_type(
        key="opportunity",
        fields=["stage:choice:open|won|lost", "amount:number", "renewal:date", "hot:bool"],
    )


def _error(data: Any) -> str:
    with pytest.raises(ValidationError) as info:
        parse(data)
    return info.value.message


def test_errors_name_the_path(deal_type: RecordType) -> None:
    bad_op = {
        "all": [
            {"field": "type", "op": "eq", "value": "opportunity"},
            {"field": "amount", "op": "gt", "value": 5},
            {"field": "stage", "op": "equals", "value": "won"},
        ]
    }
    assert _error(bad_op).startswith("conditions.all[2].op: unknown operator 'equals'")
    assert _error({"any": [{"not": {"field": "colour", "op": "eq", "value": "x"}}]}).startswith(
        "conditions.any[0].not.field: unknown field 'colour'"
    )
    assert "expected a number, not 'lots'" in _error(
        {"field": "amount", "op": "gt", "value": "lots"}
    )
    assert _error({"field": "renewal", "op": "lt", "value": "next week"}).startswith(
        "conditions.value: 'next week' is not a date"
    )
    assert "'gold' is not one of open, won, lost" in _error(
        {"field": "stage", "op": "eq", "value": "gold"}
    )
    assert "does not apply to bool field 'hot'" in _error(
        {"field": "hot", "op": "gt", "value": True}
    )
    assert "unknown record type 'dael'" in _error({"field": "type", "op": "eq", "value": "dael"})
    assert _error({"all": {"field": "type"}}).startswith("conditions.all: expected a list")
    assert _error([1]).startswith("conditions: a condition is an object")
    assert "needs a value" in _error({"field": "amount", "op": "gt"})
    assert "takes a whole number of days" in _error(
        {"field": "renewal", "op": "within_days", "value": -3}
    )
    assert _error({"field": "type", "op": "eq", "value": "opportunity", "vaule": 1}).startswith(
        "conditions.vaule: unknown key"
    )


def test_a_query_refuses_change_operators(deal_type: RecordType) -> None:
    cond = parse({"field": "stage", "op": "changed", "to": "won"})
    assert cond.uses_changes
    with pytest.raises(ValidationError, match="no meaning in a query"):
        cond.q()
    snap = {
        "type": "opportunity",
        "fields": {"stage": "won"},
        "changes": {"fields.stage": ["open", "won"]},
    }
    assert cond.matches(snap)
    assert not parse({"field": "stage", "op": "changed", "from": "lost"}).matches(snap)
    assert not cond.matches({"type": "opportunity", "fields": {"stage": "won"}})


def test_explain_lists_inputs_and_results(deal_type: RecordType) -> None:
    deal = add_record(type_key="opportunity", name="Big", fields={"amount": 900, "stage": "open"})
    cond = parse(
        {
            "all": [
                {"field": "type", "op": "eq", "value": "opportunity"},
                {"field": "amount", "op": "gte", "value": 1000},
            ]
        }
    )
    result, trace = cond.explain(snapshot(deal), today=TODAY)
    assert result is False
    assert trace[1] == {
        "path": "conditions.all[1]",
        "field": "amount",
        "op": "gte",
        "actual": 900.0,
        "value": 1000.0,
        "result": False,
    }


def test_case_missing_values_and_dates(deal_type: RecordType, time_travel: Any) -> None:
    a = add_record(type_key="opportunity", name="Ärger GmbH", fields={"renewal": "2026-06-20"})
    b = add_record(type_key="opportunity", name="acme", fields={"hot": True, "amount": 0.5})

    def ids(data: Any) -> set[str]:
        cond = parse(data)
        found = set(
            Record.objects.filter(type_id="opportunity")
            .filter(cond.q(today=TODAY))
            .values_list("id", flat=True)
        )
        by_predicate = {
            r.id
            for r in Record.objects.filter(type_id="opportunity")
            if cond.matches(snapshot(r), today=TODAY)
        }
        assert found == by_predicate, data
        return found

    assert ids({"field": "name", "op": "eq", "value": "ACME"}) == {b.id}
    assert ids({"field": "name", "op": "eq", "value": "ACME", "case_sensitive": True}) == set()
    assert ids({"field": "name", "op": "starts_with", "value": "ärg"}) == set()  # Ä is not A-Z
    assert ids({"field": "name", "op": "starts_with", "value": "Ärg"}) == {a.id}
    assert ids({"field": "hot", "op": "ne", "value": True}) == {a.id}  # missing is ne
    assert ids({"field": "amount", "op": "lt", "value": 1}) == {b.id}  # missing is not lt
    assert ids({"field": "amount", "op": "is_empty"}) == {a.id}
    assert ids({"field": "renewal", "op": "within_next_days", "value": 5}) == {a.id}
    assert ids({"field": "renewal", "op": "within_next_days", "value": 4}) == set()
    assert ids({"field": "created_at", "op": "within_days", "value": 0}) == {a.id, b.id}
    assert ids({"not": {"any": []}}) == {a.id, b.id}


# -- the property: the compiled query and the predicate select the same records ----------

_TEXTS = st.one_of(
    st.sampled_from(
        ["", "a", "A", "ab", "Ab", "b", "é", "É", "ß", "SS", "z", "Z", "%", "_", "a_b"]
    ),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=6,
    ),
)
_NUMBERS = st.one_of(
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.sampled_from([0, -0.0, 0.5, 1, 1.5, -1, 10, 1e15, 0.1]),
)
_DATES = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(
    lambda d: d.isoformat()
)
_NEAR = st.integers(min_value=-400, max_value=400).map(
    lambda n: (TODAY + dt.timedelta(days=n)).isoformat()
)
_VALUES = {
    "label": _TEXTS,
    "tier": st.sampled_from(["gold", "Silver", "bronze"]),
    "amount": _NUMBERS,
    "renewal": st.one_of(_DATES, _NEAR),
    "hot": st.booleans(),
}
_FIELD_SPECS = [
    "label:text",
    "tier:choice:gold|Silver|bronze",
    "amount:number",
    "renewal:date",
    "hot:bool",
]


@st.composite
def _record_fields(draw: st.DrawFn) -> dict[str, Any]:
    return {
        name: draw(strategy)
        for name, strategy in _VALUES.items()
        if draw(st.booleans())  # missing half the time
    }


def _leaf(draw: st.DrawFn) -> dict[str, Any]:
    field = draw(st.sampled_from([*_VALUES, "name", "type", "created_at", "private"]))
    kind = {
        "label": "text",
        "tier": "choice",
        "amount": "number",
        "renewal": "date",
        "hot": "bool",
        "name": "text",
        "type": "type",
        "created_at": "datetime",
        "private": "bool",
    }[field]
    ops = {
        "text": ["eq", "ne", "in", "contains", "starts_with", "is_empty", "lt", "lte", "gt", "gte"],
        "choice": ["eq", "ne", "in", "is_empty", "lt", "gte"],
        "type": ["eq", "ne", "in"],
        "number": ["eq", "ne", "in", "is_empty", "lt", "lte", "gt", "gte"],
        "date": [
            "eq",
            "ne",
            "in",
            "is_empty",
            "lt",
            "lte",
            "gt",
            "gte",
            "within_days",
            "within_next_days",
            "older_than_days",
        ],
        "datetime": ["eq", "lt", "gte", "within_days", "older_than_days", "is_empty"],
        "bool": ["eq", "ne", "is_empty"],
    }[kind]
    op = draw(st.sampled_from(ops))
    strategy = {
        "text": _TEXTS.filter(lambda t: len(t) <= 1000),
        "choice": st.sampled_from(["gold", "GOLD", "silver", "Silver", "bronze"]),
        "type": st.sampled_from(["person", "organization", "gizmo"]),
        "number": _NUMBERS,
        "date": st.one_of(_DATES, _NEAR),
        "datetime": st.one_of(_NEAR, st.just(TODAY.isoformat())),
        "bool": st.booleans(),
    }[kind]
    cond: dict[str, Any] = {"field": field, "op": op}
    if op in ("within_days", "within_next_days", "older_than_days"):
        cond["value"] = draw(st.integers(min_value=0, max_value=36_500))
    elif op == "in":
        cond["value"] = draw(st.lists(strategy, min_size=1, max_size=3))
    elif op == "is_empty":
        cond["value"] = draw(st.booleans())
    else:
        cond["value"] = draw(strategy)
    if kind in ("text", "choice") and draw(st.booleans()):
        cond["case_sensitive"] = True
    return cond


@st.composite
def _condition(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    if depth >= 3 or draw(st.integers(0, 2)) == 0:
        return _leaf(draw)
    kind = draw(st.sampled_from(["all", "any", "not"]))
    if kind == "not":
        return {"not": draw(_condition(depth + 1))}
    return {kind: draw(st.lists(_condition(depth + 1), max_size=3))}


@pytest.fixture
def gizmos() -> None:
    define_type(key="gizmo", fields=_FIELD_SPECS)


@settings(
    max_examples=int(os.environ.get("KITH_CONDITION_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(_record_fields(), min_size=1, max_size=8),
    names=st.lists(_TEXTS.filter(lambda t: t.strip() != ""), min_size=8, max_size=8),
    data=st.data(),
)
def test_query_and_predicate_agree(
    gizmos: None, time_travel: Any, rows: Any, names: Any, data: Any
) -> None:
    Record.objects.filter(type_id="gizmo").delete()
    made = []
    for i, values in enumerate(rows):
        made.append(add_record(type_key="gizmo", name=names[i].strip() or "x", fields=values))
    conds = [data.draw(_condition()) for _ in range(4)]
    base = Record.objects.filter(type_id="gizmo")
    snaps = [snapshot(r) for r in base]
    for raw in conds:
        cond = parse(raw)
        by_query = set(base.filter(cond.q(today=TODAY)).values_list("id", flat=True))
        by_predicate = {s["id"] for s in snaps if cond.matches(s, today=TODAY)}
        assert by_query == by_predicate, (raw, [s["fields"] for s in snaps])


def test_field_added_later_is_known(gizmos: None) -> None:
    add_field(type_key="gizmo", spec="score:number")
    assert parse({"field": "fields.score", "op": "gt", "value": 1}).fields == {"score"}
    assert set(conditions.known_fields(["person"])) >= {"title", "name", "type"}
