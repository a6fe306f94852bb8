from kith import testing


def test_person_at_org_is_visible_from_both_ends() -> None:
    from kith.relationships.selectors import relations_view

    acme = testing.make_org("Acme", domains=("acme.test",))
    jane = testing.make_person("Jane Doe", email="jane@acme.test", org=acme, role="CTO")
    [from_jane] = relations_view(jane)
    [from_acme] = relations_view(acme)
    assert (from_jane["label"], from_jane["other"]["id"], from_jane["role"]) == (
        "works_at",
        acme.id,
        "CTO",
    )
    assert (from_acme["label"], from_acme["other"]["id"]) == ("employs", jane.id)
