"""Interactions: participants and links, idempotent external ids, timelines."""

from __future__ import annotations

import datetime as dt

import pytest

from kith import testing
from kith.core import clock
from kith.core.errors import NotFound, ValidationError
from kith.core.viewer import SYSTEM
from kith.interactions import selectors, services
from kith.interactions.models import Interaction
from kith.interactions.services import log_interaction
from kith.relationships.services import end_relationship


def _subjects(record, **kwargs) -> list[str]:  # type: ignore[no-untyped-def]
    return [i["subject"] for i in selectors.timeline(SYSTEM, record, **kwargs)]


def test_interaction_shows_on_every_participant_and_linked_record() -> None:
    acme, deal = testing.make_org("Acme"), testing.make_org("Deal Co")
    jane, john = testing.make_person("Jane"), testing.make_person("John")
    _interaction, created = services.log_interaction(
        kind="meeting",
        participants=[(jane.id, "organiser"), (john.id, None)],
        links=[deal.id],
        at="2026-03-01T10:00:00+00:00",
        subject="Kick-off",
    )
    assert created
    assert _subjects(jane) == _subjects(john) == _subjects(deal) == ["Kick-off"]
    assert _subjects(acme) == []
    [view] = selectors.timeline(SYSTEM, john)
    assert {(p["name"], p["role"]) for p in view["participants"]} == {
        ("Jane", "organiser"),
        ("John", "attendee"),
    }
    assert view["links"] == [{"id": deal.id, "name": "Deal Co"}]


def test_organisation_timeline_includes_its_people_while_they_worked_there() -> None:
    acme = testing.make_org("Acme")
    jane = testing.make_person("Jane")
    rel = testing.relate(jane, "works_at", acme, since="2024-01-01")
    end_relationship(rel_id=rel.id, on="2025-01-01")
    testing.log("call", jane, at="2023-06-01T09:00:00+00:00", subject="before she joined")
    testing.log("call", jane, at="2024-06-01T09:00:00+00:00", subject="while at Acme")
    testing.log("call", jane, at="2025-06-01T09:00:00+00:00", subject="after she left")
    assert _subjects(acme) == ["while at Acme"]
    [row] = selectors.timeline(SYSTEM, acme)
    assert row["via"] == {"id": jane.id, "name": "Jane"}
    assert _subjects(jane) == ["after she left", "while at Acme", "before she joined"]


def test_external_id_makes_relogging_a_no_op() -> None:
    jane = testing.make_person("Jane")
    first, created = services.log_interaction(
        kind="email", participants=[(jane.id, "to")], external_id="<abc@mail>", subject="one"
    )
    again, created_again = services.log_interaction(
        kind="email", participants=[(jane.id, "to")], external_id="<abc@mail>", subject="two"
    )
    assert created and not created_again and again.id == first.id
    assert Interaction.objects.count() == 1


def test_naive_times_are_local_and_stored_as_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_TZ", "Europe/Berlin")
    jane = testing.make_person("Jane")
    interaction = testing.log("call", jane, at="2026-07-01T14:30")
    assert interaction.at == dt.datetime(2026, 7, 1, 12, 30, tzinfo=dt.UTC)
    stored = Interaction.objects.get(pk=interaction.pk)
    assert stored.at == dt.datetime(2026, 7, 1, 12, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"kind": "smoke signal"}, "kind: 'smoke signal' is not a valid interaction kind"),
        ({"direction": "sideways"}, "direction: 'sideways' is not one of in, out, internal"),
        ({"sentiment": "2"}, "sentiment: '2' is outside -1..1"),
        ({"sentiment": "happy"}, "sentiment: 'happy' is not a number"),
        ({"score": "ten"}, "score: 'ten' is not a number"),
        ({"at": "yesterday-ish"}, "at: 'yesterday-ish' is not a valid time"),
        ({"participants": [("Nobody", None)]}, "with: no record matches 'Nobody'"),
        ({"participants": [("Jane", "boss")]}, "role: 'boss' is not a participant role"),
        ({"participants": []}, "with: an interaction needs at least one participant"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    kwargs: dict[str, object], fragment: str
) -> None:
    testing.make_person("Jane")
    args: dict[str, object] = {"kind": "call", "participants": [("Jane", None)]} | kwargs
    with pytest.raises((ValidationError, NotFound)) as err:
        services.log_interaction(**args)  # type: ignore[arg-type]
    assert fragment in err.value.message
    assert Interaction.objects.count() == 0


def test_sentiment_words_and_custom_kinds() -> None:
    jane = testing.make_person("Jane")
    interaction = testing.log("site_visit", jane, sentiment="negative", score="3")
    assert (interaction.kind, interaction.sentiment, interaction.score) == ("site_visit", -1.0, 3.0)


def test_timeline_pages_filters_and_reaches_old_history() -> None:
    jane = testing.make_person("Jane")
    now = clock.now()
    for days in (1, 3, 10, 100, 1000):
        testing.log(
            "email" if days % 2 else "call",
            jane,
            at=now - dt.timedelta(days=days),
            subject=f"{days}d",
        )
    assert _subjects(jane) == ["1d", "3d", "10d", "100d", "1000d"]
    assert _subjects(jane, limit=2) == ["1d", "3d"]
    assert _subjects(jane, before=now - dt.timedelta(days=5), limit=2) == ["10d", "100d"]
    assert _subjects(jane, kinds=["call"]) == ["10d", "100d", "1000d"]
    with pytest.raises(ValidationError, match="limit"):
        selectors.timeline(SYSTEM, jane, limit=0)


def test_an_old_quiet_organisation_timeline_starts_at_its_newest_item() -> None:
    # the windows start from the newest item on the timeline, not from today: a timeline
    # whose history ended years ago (or holds a planned meeting) still pages in order
    acme = testing.make_org("Acme")
    ann = testing.make_person("Ann", org=acme, since="2020-01-01")
    end_relationship(rel_id=ann.outgoing.get().id, on="2023-01-01")
    for day in range(1, 31):
        testing.log("call", ann, at=f"2022-06-{day:02d}T10:00Z", subject=f"june {day}")
    testing.log("call", ann, at="2024-01-05T10:00Z", subject="after she left")
    testing.log("meeting", ann, links=(acme,), at=clock.now() + dt.timedelta(days=9),
                subject="planned")  # fmt: skip
    subjects = _subjects(acme, limit=5)
    assert subjects == ["planned", "june 30", "june 29", "june 28", "june 27"]
    assert "after she left" not in _subjects(acme, limit=100)
    assert _subjects(acme, limit=3, before=dt.datetime(2022, 6, 3, tzinfo=dt.UTC)) == [
        "june 2",
        "june 1",
    ]


def test_timeline_query_count_does_not_grow_with_the_page(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    acme = testing.make_org("Acme")
    people = [testing.make_person(f"P{i}", org=acme) for i in range(5)]
    for i in range(40):
        testing.log("email", people[i % 5], links=(acme,), at=f"2026-01-{1 + i % 28:02d}T10:00Z")
    with django_assert_max_num_queries(12):
        rows = selectors.timeline(SYSTEM, acme, limit=40)
    assert len(rows) == 40


def test_values_the_database_cannot_hold_are_named_errors_on_both_databases() -> None:
    bob = testing.make_person("Bob")
    before = Interaction.objects.count()
    with pytest.raises(ValidationError, match=r"external_id: .* longer than 500 characters"):
        log_interaction(kind="call", participants=[(bob.id, None)], external_id="x" * 501)
    with pytest.raises(ValidationError, match="duration: 3000000000 seconds is more than"):
        log_interaction(kind="call", participants=[(bob.id, None)], duration=3_000_000_000)
    assert Interaction.objects.count() == before
    longest, _ = log_interaction(
        kind="call", participants=[(bob.id, None)], external_id="y" * 500, duration=2**31 - 1
    )
    assert longest.duration == 2**31 - 1


def test_cli_names_an_unknown_role_suffix(cli) -> None:  # type: ignore[no-untyped-def]
    testing.make_person("Bob")
    testing.make_person("Ops:Night")  # a name with a colon still resolves whole
    code, _out, err = cli("log", "call", "--with", "Bob:boss")
    assert code == 1 and err == (
        "error: with: 'boss' in 'Bob:boss' is not a role "
        "(from, to, cc, bcc, attendee, organiser, mentioned)\n"
    )
    assert Interaction.objects.count() == 0
    code, _out, err = cli("log", "call", "--with", "Ops:Night", "--with", "Bob:cc", "--json")
    assert code == 0, err
    assert Interaction.objects.get().participants.count() == 2


def test_nul_in_subject_body_or_outcome_is_refused_on_both_databases(cli) -> None:  # type: ignore[no-untyped-def]

    bob = testing.make_person("Bob")
    for key in ("subject", "body", "outcome", "thread_id", "source"):
        with pytest.raises(ValidationError, match=f"{key}: 'a\\\\x00b' contains a NUL character"):
            log_interaction(kind="call", participants=[(bob.id, None)], **{key: "a\x00b"})
    code, _, err = cli("log", "note", "--with", "Bob", "--body", "x\x00y")
    assert code == 1 and err == "error: body: 'x\\x00y' contains a NUL character\n"
    assert Interaction.objects.count() == 0
    done, _ = log_interaction(kind="call", participants=[(bob.id, None)], subject="s", body="b")
    assert (done.subject, done.body) == ("s", "b")
