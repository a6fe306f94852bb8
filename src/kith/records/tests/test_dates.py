"""Dates that make sense: a birthday in the future is refused in every interface; a
relationship that starts later reads "upcoming", never "ended", in the CLI too."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from kith.core import clock
from kith.core.errors import ValidationError
from kith.core.viewer import SYSTEM
from kith.imports.services import ImportFailed, import_file
from kith.records.models import Record
from kith.records.services import add_record, update_record
from kith.testing import make_org, make_person, relate


def _tomorrow() -> str:
    return (clock.local_today() + dt.timedelta(days=1)).isoformat()


def test_a_birthday_in_the_future_is_refused_everywhere(cli: Any, tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        add_record(type_key="person", name="Baby", fields={"birthday": _tomorrow()})
    assert info.value.message == f"birthday: {_tomorrow()} is in the future; a birthday has passed"
    ann = make_person("Ann", email="ann@x.test")
    update_record(ref=ann.id, values={"birthday": clock.local_today().isoformat()})  # today: ok
    code, _, err = cli("edit", "Ann", "--set", f"birthday={_tomorrow()}")
    assert code == 1 and err.strip().startswith(f"error: birthday: {_tomorrow()} is in the future")
    assert Record.objects.get(pk=ann.pk).fields["birthday"] == clock.local_today().isoformat()
    path = tmp_path / "google.csv"
    path.write_text(f"First Name,Last Name,Birthday\nBo,Best,{_tomorrow()}\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        import_file(viewer=SYSTEM, path=str(path))
    assert "line 2, column 'Birthday'" in failed.value.message
    assert "in the future" in failed.value.message


def test_a_relationship_starting_later_is_upcoming_in_the_cli(cli: Any) -> None:
    ann, acme = make_person("Ann"), make_org("Acme")
    relate(ann, "works_at", acme, since=(clock.today() + dt.timedelta(days=30)).isoformat())
    code, out, _ = cli("relations", ann.id)
    assert code == 0 and "upcoming" in out and "ended" not in out
    code, out, _ = cli("relations", ann.id, "--json")
    [row] = json.loads(out)
    assert row["upcoming"] is True and row["active"] is False
