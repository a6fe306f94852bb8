"""Relationships: both ends, inverse names, allowed types, dates, history, as-of."""

from __future__ import annotations

import datetime as dt

import pytest

from kith import testing
from kith.core.errors import Ambiguous, Conflict, NotFound, ValidationError
from kith.core.viewer import SYSTEM
from kith.records.services import add_record, define_type
from kith.relationships import selectors, services
from kith.relationships.models import Relationship, RelationshipType
from kith.relationships.selectors import record_history


def _labels(record, **kwargs) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [
        (r["label"], r["other"]["name"]) for r in selectors.relations_view(SYSTEM, record, **kwargs)
    ]


def test_every_link_is_visible_from_both_ends_with_the_right_label() -> None:
    acme = testing.make_org("Acme")
    jane = testing.make_person("Jane")
    john = testing.make_person("John")
    testing.relate(jane, "works_at", acme, role="CTO")
    testing.relate(john, "reports_to", jane)
    testing.relate(jane, "knows", john)
    assert sorted(_labels(jane)) == [("knows", "John"), ("manages", "John"), ("works_at", "Acme")]
    assert sorted(_labels(john)) == [("knows", "Jane"), ("reports_to", "Jane")]
    assert _labels(acme) == [("employs", "Jane")]


def test_inverse_name_is_stored_forwards() -> None:
    acme = testing.make_org("Acme")
    jane = testing.make_person("Jane")
    rel = services.relate(a="Acme", type_name="employs", b="Jane", role="CFO")
    assert (rel.type_id, rel.from_record_id, rel.to_record_id) == ("works_at", jane.id, acme.id)


def test_same_name_resolves_by_record_types() -> None:
    parent_co, child_co = testing.make_org("Parent Co"), testing.make_org("Child Co")
    mum, kid = testing.make_person("Mum"), testing.make_person("Kid")
    org_rel = services.relate(a=parent_co.id, type_name="parent_of", b=child_co.id)
    person_rel = services.relate(a=mum.id, type_name="parent_of", b=kid.id)
    assert (org_rel.type_id, org_rel.from_record_id) == ("subsidiary_of", child_co.id)
    assert (person_rel.type_id, person_rel.from_record_id) == ("parent_of", mum.id)
    assert _labels(kid) == [("child_of", "Mum")]
    assert _labels(child_co) == [("subsidiary_of", "Parent Co")]


def test_type_not_allowed_between_those_records() -> None:
    jane, john = testing.make_person("Jane"), testing.make_person("John")
    with pytest.raises(ValidationError, match="works_at joins person -> organization"):
        services.relate(a=jane.id, type_name="works_at", b=john.id)
    with pytest.raises(NotFound, match="unknown relationship type 'loves'"):
        services.relate(a=jane.id, type_name="loves", b=john.id)
    assert Relationship.objects.count() == 0


def test_dates_are_validated() -> None:
    acme, jane = testing.make_org("Acme"), testing.make_person("Jane")
    with pytest.raises(ValidationError, match="until: 2023-01-01 is before since 2024-01-01"):
        services.relate(
            a=jane.id, type_name="works_at", b=acme.id, since="2024-01-01", until="2023-01-01"
        )
    with pytest.raises(ValidationError, match="since: '2024-13-01' is not a valid date"):
        services.relate(a=jane.id, type_name="works_at", b=acme.id, since="2024-13-01")
    with pytest.raises(ValidationError, match="cannot be related to itself"):
        services.relate(a=jane.id, type_name="knows", b=jane.id)


def test_several_employers_and_several_types_per_pair() -> None:
    acme, globex = testing.make_org("Acme"), testing.make_org("Globex")
    jane = testing.make_person("Jane")
    testing.relate(jane, "works_at", acme, role="CTO")
    testing.relate(jane, "works_at", globex, role="Advisor")
    testing.relate(jane, "board_member_of", acme)
    testing.relate(jane, "investor_in", acme)
    assert sorted(_labels(jane)) == [
        ("board_member_of", "Acme"),
        ("investor_in", "Acme"),
        ("works_at", "Acme"),
        ("works_at", "Globex"),
    ]
    assert sorted(_labels(acme, type_name="employs")) == [("employs", "Jane")]


def test_identical_open_relationship_is_a_conflict_unless_asked_to_return_it() -> None:
    acme, jane = testing.make_org("Acme"), testing.make_person("Jane")
    first = testing.relate(jane, "works_at", acme, role="CTO")
    with pytest.raises(Conflict, match="already works_at"):
        testing.relate(jane, "works_at", acme, role="CTO")
    again = services.relate(
        a=jane.id, type_name="works_at", b=acme.id, role="CTO", if_exists="return"
    )
    assert again.id == first.id
    a, b = testing.make_person("A"), testing.make_person("B")
    testing.relate(a, "knows", b)
    with pytest.raises(Conflict):
        testing.relate(b, "knows", a)  # symmetric: the same tie read the other way


def test_ending_keeps_history_and_as_of_sees_the_past() -> None:
    acme, jane = testing.make_org("Acme"), testing.make_person("Jane")
    rel = testing.relate(jane, "works_at", acme, since="2020-01-01")
    services.end_relationship(rel_id=rel.id, on="2024-06-30")
    assert _labels(acme, as_of=dt.date(2019, 12, 31)) == []
    assert _labels(acme, as_of=dt.date(2022, 1, 1)) == [("employs", "Jane")]
    assert _labels(acme, as_of=dt.date(2024, 6, 29)) == [("employs", "Jane")]
    assert _labels(acme, as_of=dt.date(2024, 6, 30)) == []
    [row] = selectors.relations_view(SYSTEM, acme)
    assert (row["active"], row["until"]) == (False, "2024-06-30")
    with pytest.raises(Conflict, match="already ended on 2024-06-30"):
        services.end_relationship(rel_id=rel.id, on="2024-07-01")
    with pytest.raises(NotFound):
        services.end_relationship(rel_id="rel_nope")

    actions = [(h["action"], h["entity_id"]) for h in record_history(SYSTEM, jane)[0]]
    assert ("end", rel.id) in actions


def test_end_before_start_is_rejected() -> None:
    acme, jane = testing.make_org("Acme"), testing.make_person("Jane")
    rel = testing.relate(jane, "works_at", acme, since="2024-01-01")
    with pytest.raises(ValidationError, match="before the relationship began"):
        services.end_relationship(rel_id=rel.id, on="2023-12-31")
    assert Relationship.objects.get(pk=rel.id).until is None


def test_user_defined_types_with_allowed_record_types() -> None:
    define_type(key="project", fields=["budget:number"])
    apollo = add_record(type_key="project", name="Apollo")
    jane = testing.make_person("Jane")
    acme = testing.make_org("Acme")
    services.add_type(name="leads", inverse="led_by", from_types=["person"], to_types=["project"])
    services.add_type(name="sibling_of", symmetric=True, from_types=["person"], to_types=[])
    services.relate(a="Apollo", type_name="led_by", b="Jane")
    assert _labels(apollo) == [("led_by", "Jane")]
    with pytest.raises(ValidationError, match="leads joins person -> project"):
        services.relate(a=jane.id, type_name="leads", b=acme.id)
    with pytest.raises(Conflict, match="already exists"):
        services.add_type(name="leads", inverse="x")
    with pytest.raises(ValidationError, match="either --inverse NAME or --symmetric"):
        services.add_type(name="mentors")
    with pytest.raises(NotFound, match="unknown record type 'planet'"):
        services.add_type(name="orbits", inverse="orbited_by", from_types=["planet"])


def test_ambiguous_type_names_list_candidates() -> None:
    # add_type refuses such a clash (below); a workspace may still hold one from before
    RelationshipType.objects.create(key="backs", inverse="backed_by", from_types=[], to_types=[])
    acme, jane = testing.make_org("Acme"), testing.make_person("Jane")
    # backed_by is the inverse of both investor_in and backs
    with pytest.raises(Ambiguous, match="investor_in"):
        services.relate(a=acme.id, type_name="backed_by", b=jane.id)


def test_a_new_type_cannot_make_an_existing_name_ambiguous() -> None:
    jane, bob, acme = testing.make_person("Jane"), testing.make_person("Bob"), testing.make_org("A")
    types_before = RelationshipType.objects.count()
    # its inverse would read like the symmetric knows, which has no other name
    with pytest.raises(Conflict, match="inverse: 'knows' is already the relationship type"):
        services.add_type(name="acquainted_with", inverse="knows")
    # its name would read like works_at's inverse between the same record types
    with pytest.raises(Conflict, match="name: 'employs' is already the inverse of 'works_at'"):
        services.add_type(name="employs", inverse="hired_by", from_types=["organization"])
    assert RelationshipType.objects.count() == types_before
    services.relate(a=jane.id, type_name="knows", b=bob.id)
    services.relate(a=acme.id, type_name="employs", b=jane.id)
    # a shared name is fine when the record types at the ends tell the readings apart
    define_type(key="project", fields=[])
    services.add_type(
        name="child_of", inverse="has_subproject", from_types=["project"], to_types=["project"]
    )
    services.relate(a=bob.id, type_name="child_of", b=jane.id)
    alpha, beta = (
        add_record(type_key="project", name="Alpha"),
        add_record(type_key="project", name="Beta"),
    )
    rel = services.relate(a=alpha.id, type_name="child_of", b=beta.id)
    assert rel.type_id == "child_of"


def test_reltype_clash_is_one_line_and_changes_nothing(cli) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = cli("reltype", "add", "sponsor", "--inverse", "knows")
    assert code == 1 and err.startswith("error: inverse: 'knows'") and err.count("\n") == 1
    assert not RelationshipType.objects.filter(key="sponsor").exists()


def test_relations_view_has_no_n_plus_one(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    acme = testing.make_org("Acme")
    for i in range(25):
        testing.make_person(f"P{i}", org=acme, role="Engineer")
    with django_assert_max_num_queries(2):
        rows = selectors.relations_view(SYSTEM, acme)
    assert len(rows) == 25


def test_team_is_people_working_at_home_as_of_a_date() -> None:
    home = testing.make_home()
    alice = testing.make_person("Alice", org=home, since="2020-01-01")
    bob = testing.make_person("Bob")
    rel = testing.relate(bob, "works_at", home, since="2021-01-01")
    services.end_relationship(rel_id=rel.id, on="2023-01-01")
    assert selectors.team_ids(dt.date(2022, 1, 1)) == sorted([alice.id, bob.id])
    assert selectors.team_ids(dt.date(2024, 1, 1)) == [alice.id]


def test_a_too_long_relationship_type_name_says_how_long_it_may_be() -> None:
    with pytest.raises(ValidationError, match=r"name: 'r{61}' .* \(at most 60 characters\)"):
        services.add_type(name="r" * 61, symmetric=True)
    assert services.add_type(name="r" * 60, symmetric=True).key == "r" * 60


def test_an_empty_period_is_refused_when_relating_and_when_ending(cli) -> None:  # type: ignore[no-untyped-def]
    acme, jane = testing.make_org("Acme"), testing.make_person("Jane")
    with pytest.raises(ValidationError, match="until: 2024-01-01 is the same day as since"):
        services.relate(
            a=jane.id, type_name="works_at", b=acme.id, since="2024-01-01", until="2024-01-01"
        )
    code, out, err = cli(
        "relate", "Jane", "works_at", "Acme", "--since", "2024-01-01", "--until", "2024-01-01"
    )
    assert (code, out) == (1, "") and err == (
        "error: until: 2024-01-01 is the same day as since 2024-01-01; until is the first day "
        "it no longer holds, so it must be after since\n"
    )
    assert Relationship.objects.count() == 0
    one_day = services.relate(
        a=jane.id, type_name="works_at", b=acme.id, since="2024-01-01", until="2024-01-02"
    )
    assert one_day.until == dt.date(2024, 1, 2)
    rel = testing.relate(jane, "knows", testing.make_person("Bo"), since="2024-03-01")
    with pytest.raises(ValidationError, match="on: 2024-03-01 is the day the relationship began"):
        services.end_relationship(rel_id=rel.id, on="2024-03-01")
    assert Relationship.objects.get(pk=rel.id).until is None
    assert services.end_relationship(rel_id=rel.id, on="2024-03-02").until == dt.date(2024, 3, 2)


def test_nul_in_role_note_or_source_is_refused_on_both_databases(cli) -> None:  # type: ignore[no-untyped-def]
    acme, jane = testing.make_org("Acme"), testing.make_person("Jane")
    for key in ("role", "note", "source"):
        with pytest.raises(ValidationError, match=f"{key}: 'a\\\\x00b' contains a NUL character"):
            services.relate(a=jane.id, type_name="works_at", b=acme.id, **{key: "a\x00b"})
    code, _, err = cli("relate", "Jane", "works_at", "Acme", "--note", "x\x00y")
    assert code == 1 and err == "error: note: 'x\\x00y' contains a NUL character\n"
    assert Relationship.objects.count() == 0
    rel = services.relate(a=jane.id, type_name="works_at", b=acme.id, role="CTO", note="ok")
    assert (rel.role, rel.note) == ("CTO", "ok")
