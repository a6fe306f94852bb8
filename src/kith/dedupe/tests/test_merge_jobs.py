"""A merge leaves one current job at an organisation both records worked at (the defect:
two), from the earlier start with the kept record's role; ended ones stay history."""

from __future__ import annotations

import datetime as dt

from kith.dedupe.services import merge_records, unmerge
from kith.relationships.models import Relationship
from kith.testing import make_org, make_person, relate


def _jobs(person_id: str) -> list[tuple[str, str, dt.date | None, dt.date | None]]:
    return sorted(
        (r.to_record.name, r.role, r.since, r.until)
        for r in Relationship.objects.filter(from_record_id=person_id, type_id="works_at")
    )


def test_two_current_jobs_at_one_organisation_become_one() -> None:
    acme, beta = make_org("Acme"), make_org("Beta")
    keep, other = make_person("Kim Lee"), make_person("Kim Lee")
    relate(keep, "works_at", acme, role="CTO", since="2022-05-01")
    relate(other, "works_at", acme, role="Engineer", since="2019-01-01")
    relate(other, "works_at", acme, role="Intern", since="2015-01-01", until="2016-01-01")
    relate(other, "works_at", beta, role="Advisor")
    report = merge_records(keep=keep.id, other=other.id)
    assert _jobs(keep.id) == [
        ("Acme", "CTO", dt.date(2019, 1, 1), None),  # one current job, the earlier start
        ("Acme", "Intern", dt.date(2015, 1, 1), dt.date(2016, 1, 1)),  # history stays
        ("Beta", "Advisor", None, None),
    ]
    assert "relationships merged (both current)" in str(report)
    unmerge(ref=other.id)
    assert _jobs(keep.id) == [("Acme", "CTO", dt.date(2022, 5, 1), None)]
    assert len(_jobs(other.id)) == 3
