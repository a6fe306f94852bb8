import datetime as dt
import random

import pytest

from kith.core.errors import ValidationError
from kith.core.ids import _ALPHABET, new_id
from kith.core.parse import parse_date, parse_datetime, parse_pairs


def test_ids_are_prefixed_base32_and_seedable() -> None:
    ids = {new_id("per") for _ in range(2000)}
    assert len(ids) == 2000
    assert all(i.startswith("per_") and len(i) == 16 and set(i[4:]) <= set(_ALPHABET) for i in ids)
    assert new_id("org", random.Random(3)) == new_id("org", random.Random(3))
    # most significant digit first: a zero number is all zeros, the top bit leads
    assert new_id("x", random.Random(0)).startswith("x_")


def test_dates_times_and_pairs() -> None:
    assert parse_date("2024-02-29", field="since") == dt.date(2024, 2, 29)
    with pytest.raises(ValidationError, match="since: '2023-02-29' is not a valid date"):
        parse_date("2023-02-29", field="since")
    assert parse_datetime("2026-01-01T10:00+02:00", field="at") == dt.datetime(
        2026, 1, 1, 8, 0, tzinfo=dt.UTC
    )
    assert parse_datetime("2026-01-01T10:00Z", field="at") == dt.datetime(
        2026, 1, 1, 10, 0, tzinfo=dt.UTC
    )
    assert parse_pairs(["a=1", "b = x=y"], option="--set") == {"a": "1", "b": "x=y"}
    with pytest.raises(ValidationError, match="'=v' is not of the form"):
        parse_pairs(["=v"], option="--set")
