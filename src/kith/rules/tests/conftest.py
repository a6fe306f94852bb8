from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kith.records.models import RecordType
from kith.records.services import define_type
from kith.rules import matching
from kith.rules.services import add_rule


@pytest.fixture(autouse=True)
def _fresh_index() -> Iterator[None]:
    """Each test's rules roll back with its transaction; the cached index must follow."""
    matching.forget()
    yield
    matching.forget()


@pytest.fixture
def deal_type() -> RecordType:
    return define_type(
        key="opportunity",
        fields=[
            "stage:choice:open|won|lost",
            "amount:number",
            "renewal:date",
            "tags:text",
            "next_step:text",
        ],
    )


@pytest.fixture
def make_rule() -> Any:
    def make(**doc: Any) -> Any:
        doc.setdefault("name", "r1")
        doc.setdefault("actions", [{"do": "set_field", "field": "next_step", "value": "call"}])
        return add_rule(doc=doc)

    return make
