"""Duplicates pages: the list of likely pairs, side by side, merge, undo; roles and privacy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from kith.dedupe.models import Merge
from kith.records.models import Record
from kith.records.services import delete_record
from kith.testing import load_contact, log, make_org, make_person, relate


def _pair(name: str = "Jane Doe", other: str = "Jane M. Doe") -> tuple[Record, Record]:
    acme = make_org("Acme Ltd", domains=("acme.example",))
    jane = make_person(name, email="jane@acme.example", org=acme, role="CTO", title="CTO")
    dup = make_person(other, email="jane.doe@gmail.example", location="Berlin")
    # the services refuse an email another record has; a bulk load can leave such twins
    load_contact(dup, "email", "jane@acme.example")
    return jane, dup


def test_list_shows_pairs_with_score_and_reasons(member: Client) -> None:
    jane, dup = _pair()
    resp = member.get("/duplicates")
    page = resp.content.decode()
    assert resp.status_code == 200
    assert f'href="/records/{jane.id}">Jane Doe</a>' in page
    assert "same email jane@acme.example" in page
    assert f"/duplicates/pair?keep={jane.id}&amp;other={dup.id}" in page
    assert 'class="dupe-score"' in page
    assert "No merges yet." in page


def test_names_are_escaped(member: Client) -> None:
    evil, _ = _pair("<script>alert(1)</script>", "<script>alert(2)</script>")
    for url in ("/duplicates", f"/duplicates/pair?keep={evil.id}&other={_.id}"):
        page = member.get(url).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<script>alert(" not in page


def test_filters_and_bad_filters(member: Client) -> None:
    _pair()
    assert "same email" not in member.get("/duplicates?type=organization").content.decode()
    resp = member.get("/duplicates?min=abc&type=spaceship")
    page = resp.content.decode()
    assert resp.status_code == 400
    assert 'id="err-min"' in page and "is not a score from 0 to 100" in page
    assert 'id="err-type"' in page and "spaceship&#39; is not a record type" in page
    assert 'aria-describedby="err-min"' in page


def test_side_by_side_shows_both_records(member: Client) -> None:
    jane, dup = _pair()
    bob = make_person("Bob Stone", email="bob@stone.example")
    relate(jane, "knows", bob)
    log("call", jane, bob, at="2024-05-01T10:00:00Z")
    log("email", dup, bob, at="2024-05-02T10:00:00Z")
    log("meeting", dup, at="2024-05-03T10:00:00Z")
    page = member.get(f"/duplicates/pair?keep={jane.id}&other={dup.id}").content.decode()
    assert "jane.doe@gmail.example" in page and "Berlin" in page
    assert "Acme Ltd" in page and "(CTO)" in page
    assert '<th scope="row">Relationships</th><td>2</td><td>0</td>' in page
    assert '<th scope="row">Interactions</th><td>1</td><td>2</td>' in page
    assert "the merge takes</span> Berlin" in page  # keep has no location: filled in
    assert f'href="/duplicates/pair?keep={dup.id}&amp;other={jane.id}"' in page  # swap
    assert "Merge Jane M. Doe into Jane Doe" in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_merge_then_undo(make_client: Callable[..., Client]) -> None:
    member = make_client("member", csrf=False)
    jane, dup = _pair()
    log("email", dup, at="2024-05-02T10:00:00Z")
    resp = member.post("/duplicates/merge", {"keep": jane.id, "other": dup.id})
    assert resp.status_code == 302
    merge = Merge.objects.get()
    assert resp["Location"] == f"/duplicates/merges/{merge.id}"
    dup.refresh_from_db()
    assert dup.merged_into == jane.id and dup.deleted_at is not None
    page = member.get(resp["Location"]).content.decode()
    assert "Merged Jane M. Doe into Jane Doe." in page  # the notice
    assert "Undo this merge" in page and "participations" in page
    assert f'action="/duplicates/merges/{merge.id}/undo"' in page
    listing = member.get("/duplicates").content.decode()
    assert "Recent merges" in listing and f"/duplicates/merges/{merge.id}/undo" in listing
    resp = member.post(f"/duplicates/merges/{merge.id}/undo")
    assert resp.status_code == 302 and resp["Location"] == "/duplicates"
    dup.refresh_from_db()
    assert dup.merged_into is None and dup.deleted_at is None
    page = member.get("/duplicates").content.decode()
    assert "Undone: Jane Doe and Jane M. Doe are two records again." in page
    assert "undone" in page
    # a second undo says it was done already
    resp = member.post(f"/duplicates/merges/{merge.id}/undo")
    assert resp.status_code == 409 and "already undone" in resp.content.decode()


def test_merge_needs_csrf(make_client: Callable[..., Client]) -> None:
    member = make_client("member", csrf=True)
    jane, dup = _pair()
    assert member.post("/duplicates/merge", {"keep": jane.id, "other": dup.id}).status_code == 403
    assert not Merge.objects.exists()


def test_already_merged_and_deleted_say_so(member: Client) -> None:
    jane, dup = _pair()
    member.post("/duplicates/merge", {"keep": jane.id, "other": dup.id})
    page = member.get(f"/duplicates/pair?keep={jane.id}&other={dup.id}").content.decode()
    assert "was already merged into another record" in page
    assert f'It is now <a href="/records/{jane.id}">Jane Doe</a>' in page
    assert "Merge Jane M. Doe into" not in page
    resp = member.post("/duplicates/merge", {"keep": jane.id, "other": dup.id})
    assert resp.status_code == 409 and "already merged" in resp.content.decode()
    gone = make_person("Gone Person", email="gone@x.example")
    delete_record(ref=gone.id)
    page = member.get(f"/duplicates/pair?keep={jane.id}&other={gone.id}").content.decode()
    assert "is deleted; restore it" in page
    resp = member.post("/duplicates/merge", {"keep": jane.id, "other": gone.id})
    assert resp.status_code == 409 and "deleted" in resp.content.decode()


def test_wrong_ids_are_clear(member: Client) -> None:
    jane, _ = _pair()
    resp = member.get(f"/duplicates/pair?keep={jane.id}&other=per_nosuchrecord")
    assert resp.status_code == 404 and "no record matches" in resp.content.decode()
    assert member.get("/duplicates/pair").status_code == 400
    assert member.post("/duplicates/merge", {"keep": jane.id}).status_code == 400
    assert member.get("/duplicates/merges/mrg_nope").status_code == 404
    assert member.post("/duplicates/merges/mrg_nope/undo").status_code == 404
    acme = Record.objects.get(name="Acme Ltd")
    resp = member.post("/duplicates/merge", {"keep": jane.id, "other": acme.id})
    assert resp.status_code == 400 and "only records of one type merge" in resp.content.decode()


def test_viewer_cannot_merge_or_undo(viewer: Client, member: Client) -> None:
    jane, dup = _pair()
    page = viewer.get(f"/duplicates/pair?keep={jane.id}&other={dup.id}").content.decode()
    assert "Merge Jane M. Doe into" not in page and "Swap" in page
    resp = viewer.post("/duplicates/merge", {"keep": jane.id, "other": dup.id})
    assert resp.status_code == 403 and not Merge.objects.exists()
    member.post("/duplicates/merge", {"keep": jane.id, "other": dup.id})
    merge = Merge.objects.get()
    assert "Undo" not in viewer.get(f"/duplicates/merges/{merge.id}").content.decode()
    assert viewer.post(f"/duplicates/merges/{merge.id}/undo").status_code == 403
    assert Merge.objects.get().undone_at is None


def test_only_the_merger_or_an_admin_undoes(
    make_client: Callable[..., Client], admin: Client
) -> None:
    alice, bob = make_client("member"), make_client("member")
    jane, dup = _pair()
    alice.post("/duplicates/merge", {"keep": jane.id, "other": dup.id})
    merge = Merge.objects.get()
    assert "Undo this merge" not in bob.get(f"/duplicates/merges/{merge.id}").content.decode()
    resp = bob.post(f"/duplicates/merges/{merge.id}/undo")
    assert resp.status_code == 403 and "Only an admin" in resp.content.decode()
    assert "Undo this merge" in admin.get(f"/duplicates/merges/{merge.id}").content.decode()
    assert admin.post(f"/duplicates/merges/{merge.id}/undo").status_code == 302
    assert Merge.objects.get().undone_at is not None


def test_private_records_stay_hidden(make_client: Callable[..., Client], admin: Client) -> None:
    alice, bob = make_client("member"), make_client("member")
    jane, dup = _pair("Secret Agent", "Secret A. Agent")
    owner = User.objects.get(username="member1@our.test")
    Record.objects.filter(pk=dup.pk).update(private=True, owner=owner)
    assert "Secret A. Agent" in alice.get("/duplicates").content.decode()
    page = bob.get("/duplicates").content.decode()
    assert "Secret A. Agent" not in page and dup.id not in page
    assert bob.get(f"/duplicates/pair?keep={jane.id}&other={dup.id}").status_code == 404
    resp = bob.post("/duplicates/merge", {"keep": jane.id, "other": dup.id})
    assert resp.status_code == 404 and not Merge.objects.exists()
    alice.post("/duplicates/merge", {"keep": jane.id, "other": dup.id})
    merge = Merge.objects.get()
    assert "Secret A. Agent" not in bob.get("/duplicates").content.decode()
    assert bob.get(f"/duplicates/merges/{merge.id}").status_code == 404
    assert "Secret A. Agent" in admin.get("/duplicates").content.decode()


def test_pages_stay_within_a_few_queries(
    member: Client, admin: Client, django_assert_max_num_queries: Any
) -> None:
    pairs = [_pair(f"Person {i}", f"Person {i} Dup") for i in range(1)]
    for i in range(8):
        a = make_person(f"Twin {i}", email=f"twin{i}@x.example")
        b = make_person(f"Twin {i} B", email=f"twin{i}.b@x.example")
        load_contact(b, "email", f"twin{i}@x.example")
        admin.post("/duplicates/merge", {"keep": a.id, "other": b.id})
    jane, dup = pairs[0]
    member.get("/duplicates")  # a first search builds the intelligence tables it keys on
    with django_assert_max_num_queries(20):
        page = member.get("/duplicates").content.decode()
    assert page.count("/undo") == 0 and "Twin 7" in page
    with django_assert_max_num_queries(20):
        admin.get("/duplicates")
    with django_assert_max_num_queries(20):
        member.get(f"/duplicates/pair?keep={jane.id}&other={dup.id}")
