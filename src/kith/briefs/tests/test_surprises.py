"""The surprise detector on synthetic weekly series (spikes, drops, weekly seasonality, low
counts), with precision and recall reported; and surprises on real data."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import pytest

from kith.accounts.selectors import get_user, viewer_of
from kith.accounts.services import add_owned_record, add_user
from kith.briefs.surprises import detect, surprises
from kith.core.errors import ValidationError
from kith.core.viewer import SYSTEM
from kith.tasks.models import Task
from kith.testing import log, make_home, make_org, make_person


def _series(rng: random.Random, n: int, level: float, season: list[float] | None) -> list[float]:
    out = []
    for i in range(n):
        mult = season[i % len(season)] if season else 1.0
        out.append(max(0.0, round(rng.gauss(level * mult, (level * mult) ** 0.5))))
    return out


def _score(seasonal: bool) -> tuple[float, float]:
    rng = random.Random(14 if seasonal else 15)
    season = [1.0, 1.6, 0.6, 1.2] if seasonal else None
    tp = fp = fn = 0
    for _ in range(300):
        s = _series(rng, 30, rng.choice([10, 20, 40]), season)
        truth: set[int] = set()
        if rng.random() < 0.5:
            k = rng.randrange(12, 30)
            s[k] = s[k] * 3 + 10 if rng.random() < 0.7 else 0.0
            truth.add(k)
        found = {
            f.index
            for f in detect(s, period=4 if seasonal else None)
            if f.kind in ("spike", "drop")
        }
        tp += len(found & truth)
        fp += len(found - truth)
        fn += len(truth - found)
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


@pytest.mark.parametrize("seasonal", [False, True])
def test_precision_and_recall_on_synthetic_series(seasonal: bool) -> None:
    precision, recall = _score(seasonal)
    print(f"seasonal={seasonal}: precision {precision:.2f}, recall {recall:.2f}")
    assert precision >= 0.9 and recall >= 0.8, (precision, recall)


def test_seasonality_is_not_a_surprise() -> None:
    s = [10.0, 30.0, 10.0, 10.0] * 6  # every fourth week is busy
    assert [f for f in detect(s, period=4) if f.kind == "spike"] == []
    assert any(f.kind == "spike" for f in detect(s))  # without the season it looks odd


def test_low_counts_are_skipped() -> None:
    assert detect([0, 1, 0, 1, 0, 0, 1, 0, 0, 4]) == []  # 4 emails is no news
    (flag,) = detect([10, 11, 9, 10, 12, 10, 9, 11, 10, 40])
    assert flag.kind == "spike" and flag.baseline == 10 and flag.index == 9


def test_a_level_shift_is_a_change_point() -> None:
    s = [10.0, 11, 9, 10, 12, 10, 9, 11, 24, 25, 23, 26]
    kinds = {f.kind for f in detect(s)}
    assert "level_up" in kinds


def test_surprises_on_an_account(time_travel: Any, cli: Any) -> None:
    home = make_home()
    ann = make_person("Ann Lee", email="ann@our.test", org=home)
    globex = make_org("Globex")
    people = [make_person(f"G{i}", org=globex) for i in range(4)]
    start = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    for week in range(20):
        per_week = 24 if week == 18 else 6  # the October workshop week
        for k in range(per_week):
            them = people[k % len(people)]
            at = start + dt.timedelta(days=7 * week, hours=k)
            log("meeting", ann, them, at=at.isoformat())
    as_of = (start + dt.timedelta(days=7 * 19 + 6)).date()
    got = surprises(SYSTEM, scope="Globex", since_days=14, as_of=as_of)
    (item,) = got["items"]
    assert item["kind"] == "spike" and item["positive"] and item["value"] == 24
    assert item["about"]["name"] == "Globex" and len(item["evidence"]) > 1
    assert "Ann Lee" not in str(item)  # events, not people
    with pytest.raises(ValidationError, match="scope: surprises are about organisations"):
        surprises(SYSTEM, scope="Ann Lee", as_of=as_of)
    with pytest.raises(ValidationError, match=r"since: 3 days is outside 7\.\.366"):
        surprises(SYSTEM, scope="all", since_days=3, as_of=as_of)
    day = as_of.isoformat()
    code, out, _ = cli("surprises", "--scope", "Globex", "--as-of", day, "--json")
    assert code == 0 and json.loads(out)["items"][0]["key"] == item["key"]
    code, out, _ = cli("surprises", "--scope", "Globex", "--as-of", day, "--task", item["key"])
    code2, _, _ = cli("surprises", "--scope", "Globex", "--as-of", day, "--task", item["key"])
    assert code == 0 and code2 == 0 and out.startswith("task tsk_")
    assert Task.objects.filter(dedupe_key=item["key"]).count() == 1  # one task, not two
    code, _, err = cli("surprises", "--since", "soon")
    assert code == 1 and "since: 'soon' is not a number of days" in err


def test_a_private_account_is_in_no_surprise_of_another_user(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    home = make_home()
    ann = make_person("Ann Lee", email="ann@our.test", org=home)
    add_user(email="owner@our.test", role="member", password="a long password 1")
    add_user(email="other@our.test", role="member", password="a long password 2")
    owner = get_user("owner@our.test")
    hidden = add_owned_record(user=owner, private=True, type_key="organization", name="Hush Co")
    spy = make_person("Spy", org=hidden)
    start = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)
    for week in range(20):
        for k in range(30 if week == 19 else 6):
            log("call", ann, spy, at=(start + dt.timedelta(days=7 * week, hours=k)).isoformat())
    as_of = (start + dt.timedelta(days=7 * 19 + 6)).date()
    mine = surprises(viewer_of(owner), scope="all", as_of=as_of)
    assert [i["about"]["name"] for i in mine["items"]] == ["Hush Co"]
    theirs = surprises(viewer_of(get_user("other@our.test")), scope="all", as_of=as_of)
    assert theirs["items"] == [] and "Hush" not in json.dumps(theirs)
