"""Create from the web: people (at several organisations), organisations and custom records
with their required fields; create-on-the-fly from "Add a relationship" and "Log an
interaction"; the relationship autocomplete offers only what the chosen type can join."""

from __future__ import annotations

from django.test import Client

from kith.core.models import Change
from kith.records.models import Record
from kith.records.services import define_type
from kith.relationships.models import Relationship
from kith.testing import make_org, make_person


def test_a_person_at_two_organisations_one_created_on_the_way(member: Client) -> None:
    acme = make_org("Acme")
    page = member.get("/new/person").content.decode()
    assert 'name="org1"' in page and 'name="org3"' in page
    resp = member.post(
        "/new/person",
        {"name": "Nia Novak", "email": "nia@acme.test", "org1": "Acme", "role1": "CTO",
         "org2": "Beta Labs", "role2": "Advisor"},
    )  # fmt: skip
    assert (
        resp.status_code == 400
        and "org2: no record matches &#39;Beta Labs&#39;" in resp.content.decode()
    )
    assert not Record.objects.filter(name="Nia Novak").exists()  # nothing half-made
    resp = member.post(
        "/new/person",
        {"name": "Nia Novak", "email": "nia@acme.test", "org1": "Acme", "role1": "CTO",
         "org2": "Beta Labs", "role2": "Advisor", "create_missing": "1"},
    )  # fmt: skip
    nia = Record.objects.get(name="Nia Novak")
    assert resp.status_code == 302 and resp["Location"] == f"/records/{nia.id}"
    jobs = Relationship.objects.filter(from_record=nia, type_id="works_at")
    assert {(j.to_record.name, j.role) for j in jobs} == {("Acme", "CTO"), ("Beta Labs", "Advisor")}
    beta = Record.objects.get(name="Beta Labs")
    assert beta.type_id == "organization" and acme.id != beta.id
    assert nia.owner is not None and nia.owner.username == "member1@our.test"
    assert Change.objects.filter(entity_id=nia.id, action="create").exists()
    assert "Created Nia Novak (and Beta Labs)." in member.get(resp["Location"]).content.decode()


def test_required_custom_fields_are_asked_and_checked(member: Client, viewer: Client) -> None:
    define_type(key="vendor", fields=["tier:choice:gold|silver!", "since:date"])
    page = member.get("/list/vendor").content.decode()
    assert 'id="list-new" href="/new/vendor"' in page
    form = member.get("/new/vendor").content.decode()
    assert 'name="f.tier"' in form and "required" in form.split('name="f.tier"')[1].split(">")[0]
    resp = member.post("/new/vendor", {"name": "Parts Co", "f.since": "2024-13-01"})
    assert resp.status_code == 400
    assert not Record.objects.filter(type_id="vendor").exists()
    resp = member.post(
        "/new/vendor", {"name": "Parts Co", "f.tier": "gold", "f.since": "2024-02-01"}
    )
    assert resp.status_code == 302
    assert Record.objects.get(type_id="vendor").fields == {"tier": "gold", "since": "2024-02-01"}
    assert viewer.get("/new/vendor").status_code == 403
    assert member.get("/new/nosuchtype").status_code in (400, 404)


def test_add_relationship_finds_no_match_then_creates_it_related(member: Client) -> None:
    ann = make_person("Ann Able")
    resp = member.post(
        f"/records/{ann.id}/relationships",
        {"type": "works_at", "other": "Gamma Ltd", "role": "COO"},
    )
    html = resp.content.decode()
    assert resp.status_code == 400  # the whole page again (htmx: the panel, 422)
    href = html.split('id="create-links"')[1].split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert href.startswith("/new/organization?name=Gamma+Ltd&link_to=" + ann.id)
    form = member.get(href).content.decode()
    assert 'value="Gamma Ltd"' in form and "works at this new organisation (COO)" in form
    resp = member.post(
        "/new/organization",
        {"name": "Gamma Ltd", "link_to": ann.id, "link_type": "works_at", "link_role": "COO"},
    )
    assert resp.status_code == 302
    rel = Relationship.objects.get(from_record=ann, type_id="works_at")
    assert (rel.to_record.name, rel.role) == ("Gamma Ltd", "COO")


def test_log_an_interaction_with_someone_new_offers_to_create_them(member: Client) -> None:
    ann = make_person("Ann Able")
    resp = member.post(f"/records/{ann.id}/interactions", {"kind": "call", "with_more": "Zoe Zed"})
    assert resp.status_code == 400  # the whole page again (htmx: the panel, 422)
    html = resp.content.decode()
    assert "/new/person?name=Zoe+Zed&amp;next=%2Frecords%2F" in html


def test_relationship_autocomplete_offers_only_what_the_type_joins(member: Client) -> None:
    ann = make_person("Ann Able")
    make_person("Acme Fan")
    make_org("Acme Corp")
    both = member.get(f"/records/{ann.id}/suggest", {"other": "acme"}).content.decode()
    assert "Acme Fan" in both and "Acme Corp" in both
    works = member.get(
        f"/records/{ann.id}/suggest", {"other": "acme", "type": "works_at"}
    ).content.decode()
    assert "Acme Corp" in works and "Acme Fan" not in works  # the defect: people offered
    knows = member.get(
        f"/records/{ann.id}/suggest", {"other": "acme", "type": "knows"}
    ).content.decode()
    assert "Acme Fan" in knows


def test_a_private_new_record_is_seen_by_its_owner_only(make_client) -> None:  # type: ignore[no-untyped-def]
    owner, other = make_client("member"), make_client("member")
    resp = owner.post("/new/organization", {"name": "Hidden Inc", "private": "1"})
    hidden = Record.objects.get(name="Hidden Inc")
    assert resp.status_code == 302 and hidden.private
    assert other.get(f"/records/{hidden.id}").status_code == 404
    resp = other.post("/new/person", {"name": "Pia", "org1": hidden.id})
    assert resp.status_code == 400 and "Pia" not in Record.objects.values_list("name", flat=True)
    resp = other.post("/new/person", {"name": "Pia", "org1": "Hidden Inc", "create_missing": "1"})
    assert resp.status_code == 302  # a new, visible Hidden Inc: the private one is not named
    assert Record.objects.filter(name="Hidden Inc").count() == 2
