"""Every import has a time budget, in the server too: a live `kith serve` with a budget of
half a second stops an upload's import with one clear line and writes nothing."""

from __future__ import annotations

import pytest

from .conftest import Live, upload

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {"KITH_IMPORT_SECONDS": "0.5"}


def test_an_upload_over_the_import_time_budget_stops_and_writes_nothing(live: Live) -> None:
    rows = "".join(f"Budget Person {n},budget{n}@budget.test\n" for n in range(30_000))
    code, answer = upload(live, "big.csv", ("Name,Email\n" + rows).encode())
    assert code == 422, answer
    assert answer["field"] == "file" and "KITH_IMPORT_SECONDS" in answer["message"], answer
    assert "nothing was imported" in answer["message"]
    code, page, _ = live.call("GET", "/api/v1/records?q=Budget%20Person")
    assert code == 200 and page["items"] == []
