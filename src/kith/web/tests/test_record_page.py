"""The record page: fields edited in place, relationships, timeline, health, as of, privacy."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kith.accounts.selectors import get_user
from kith.accounts.services import add_owned_record
from kith.core import clock
from kith.core.context import acting_as
from kith.interactions.models import Interaction
from kith.records.models import Record
from kith.records.services import add_record, define_type, update_record
from kith.testing import log, make_home, make_org, make_person, relate

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world() -> dict[str, Any]:
    """Our Co with Sam on the team; Jane at Acme, who knows Bob; a call Sam had with Jane."""
    home = make_home()
    sam = make_person("Sam Seller", email="sam@our.test", org=home)
    acme = make_org("Acme", domains=("acme.test",))
    jane = make_person("Jane Doe", email="jane@acme.test", org=acme, role="CTO", since="2020-01-01")
    bob = make_person("Bob Stone", email="bob@else.test")
    relate(jane, "knows", bob, since="2021-05-01")
    log("call", sam, jane, at="2026-01-10T10:00", subject="Kick-off")
    return {"home": home, "sam": sam, "acme": acme, "jane": jane, "bob": bob}


def body(resp: Any) -> str:
    return resp.content.decode()


def reload(record: Record) -> Record:
    return Record.objects.get(pk=record.pk)


# -- the page -----------------------------------------------------------------------------------


def test_person_page_shows_everything(member: Client, world: dict[str, Any]) -> None:
    jane = world["jane"]
    resp = member.get(f"/records/{jane.id}")
    assert resp.status_code == 200
    html = body(resp)
    assert '<h1 id="record-name">Jane Doe</h1>' in html
    assert "jane@acme.test" in html
    # relationships from both ends, grouped, with role and dates
    assert "Works at" in html and "Knows" in html
    assert f'href="/records/{world["acme"].id}"' in html and "CTO" in html
    assert "since 2020-01-01" in html
    # the timeline and the health panel with its reasons and chart
    assert "Kick-off" in html
    assert 'id="health"' in html and "Factors" in html
    assert 'id="health-trend"' in html and f"/records/{jane.id}/health" in html  # loads after
    # member sees the write controls
    assert "Add a relationship" in html and "Log an interaction" in html and ">Delete<" in html
    assert f"/records/{jane.id}/history" in html and f"/records/{jane.id}/map" in html


def test_health_trend_chart(member: Client, world: dict[str, Any]) -> None:
    jane = world["jane"]
    resp = member.get(f"/records/{jane.id}/health", **HX)
    assert resp.status_code == 200
    html = body(resp)
    assert '<svg class="chart"' in html and "<polyline" in html and "<circle" in html
    assert "Trend figures" in html and html.count("<tr><td>20") == 12  # a dozen month ends
    assert "style=" not in html  # the CSP forbids inline styles
    page = member.get(f"/records/{jane.id}/health?as_of=2025-01-31")
    assert (
        page.status_code == 200 and "<html" in body(page) and "Health on 2025-01-31" in body(page)
    )
    bad = member.get(f"/records/{jane.id}/health?as_of=31/01/2025", **HX)
    assert bad.status_code == 400 and "is not a date" in body(bad)


def test_other_end_sees_the_inverse(member: Client, world: dict[str, Any]) -> None:
    html = body(member.get(f"/records/{world['acme'].id}"))
    assert "Employs" in html and "Jane Doe" in html and "CTO" in html
    assert "acme.test" in html  # domain
    # the org's timeline holds its people's interactions, via them
    assert "Kick-off" in html and "via" in html
    assert "/orgchart" in html


def test_custom_type_record(member: Client, world: dict[str, Any]) -> None:
    define_type(key="project", fields=["budget:number", "phase:choice:plan|build|run", "due:date"])
    proj = add_record(type_key="project", name="Apollo", fields={"budget": 1000, "phase": "plan"})
    html = body(member.get(f"/records/{proj.id}"))
    assert "Apollo" in html and "Budget" in html and "1000" in html and "plan" in html
    assert "Health is measured for people and organisations" in html
    resp = member.post(f"/records/{proj.id}/fields/phase", {"value": "build", "version": "1"}, **HX)
    assert resp.status_code == 200 and "build" in body(resp)
    assert reload(proj).fields["phase"] == "build"
    resp = member.post(f"/records/{proj.id}/fields/phase", {"value": "fly", "version": "2"}, **HX)
    assert resp.status_code == 422
    assert "is not one of plan, build, run" in body(resp) and 'aria-invalid="true"' in body(resp)
    assert reload(proj).fields["phase"] == "build"


def test_team_member_and_home_org_say_why_no_health(member: Client, world: dict[str, Any]) -> None:
    html = body(member.get(f"/records/{world['sam'].id}"))
    assert "is on our team; health measures outside relationships" in html
    html = body(member.get(f"/records/{world['home'].id}"))
    assert "is our own organisation" in html


def test_unknown_record_is_404(member: Client, world: dict[str, Any]) -> None:
    resp = member.get("/records/per_doesnotexist")
    assert resp.status_code == 404 and "no record matches" in body(resp)
    assert member.get("/records/" + "x" * 5000).status_code == 404


def test_name_is_escaped_everywhere(member: Client, world: dict[str, Any]) -> None:
    evil = make_person("<script>alert(1)</script>", email="evil@else.test")
    relate(evil, "knows", world["jane"])
    log("note", evil, world["sam"], subject="<img src=x onerror=alert(2)>")
    for url in (f"/records/{evil.id}", f"/records/{world['jane'].id}", f"/records/{evil.id}/map"):
        html = body(member.get(url))
        assert "<script>alert(1)</script>" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
    html = body(member.get(f"/records/{evil.id}"))
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html


# -- as of --------------------------------------------------------------------------------------


def test_as_of_shows_the_record_as_it_was(member: Client, world: dict[str, Any]) -> None:
    jane = world["jane"]
    html = body(member.get(f"/records/{jane.id}?as_of=2020-06-01"))
    assert "Relationships on 2020-06-01" in html
    assert "Works at" in html and "Knows" not in html  # knows began in 2021
    assert "Kick-off" not in html  # the call was in 2026
    assert "Health on 2020-06-01" in html
    assert "Add a relationship" not in html  # changes are made from today's view


@pytest.mark.parametrize("bad", ["yesterday-ish", "2024-13-45", "0001-01-01", "9" * 200])
def test_bad_as_of_is_a_clear_message(member: Client, world: dict[str, Any], bad: str) -> None:
    resp = member.get(f"/records/{world['jane'].id}", {"as_of": bad})
    assert resp.status_code == 400
    html = body(resp)
    assert 'id="as-of-error"' in html and "As of:" in html
    assert "Jane Doe" in html  # the page still shows, as of today


# -- fields edited in place ---------------------------------------------------------------------


def test_edit_field_in_place(member: Client, world: dict[str, Any]) -> None:
    jane = world["jane"]
    form = member.get(f"/records/{jane.id}/fields/name/edit?version=1", **HX)
    assert (
        form.status_code == 200
        and 'name="value"' in body(form)
        and "csrfmiddlewaretoken" in body(form)
    )
    assert 'value="1"' in body(form)
    resp = member.post(
        f"/records/{jane.id}/fields/name", {"value": "Jane Q Doe", "version": "1"}, **HX
    )
    assert resp.status_code == 200
    assert "Jane Q Doe" in body(resp) and 'hx-swap-oob="true"' in body(resp)
    assert 'id="record-version" name="version" value="2"' in body(resp)
    assert reload(jane).name == "Jane Q Doe"
    # contact fields go through the same service
    resp = member.post(
        f"/records/{jane.id}/fields/phone", {"value": "+44 20 7946 0000", "version": "2"}, **HX
    )
    assert resp.status_code == 200 and "+44 20 7946 0000" in body(resp)


def test_edit_without_htmx_redirects_back(member: Client, world: dict[str, Any]) -> None:
    jane = world["jane"]
    page = member.get(f"/records/{jane.id}/fields/email/edit?version=1")
    assert page.status_code == 200 and "<html" in body(page)
    resp = member.post(
        f"/records/{jane.id}/fields/email", {"value": "jd@acme.test", "version": "1"}
    )
    assert resp.status_code == 302 and resp["Location"] == f"/records/{jane.id}"
    assert "jd@acme.test" in body(member.get(resp["Location"]))


def test_stale_edit_is_a_conflict(member: Client, world: dict[str, Any]) -> None:
    jane = world["jane"]
    update_record(ref=jane.id, values={"name": "Jane Elsewhere"})  # someone else, now version 2
    resp = member.post(f"/records/{jane.id}/fields/name", {"value": "Mine", "version": "1"}, **HX)
    assert resp.status_code == 409
    assert "Someone changed this record since you opened it" in body(resp)
    assert 'aria-invalid="true"' in body(resp)
    assert reload(jane).name == "Jane Elsewhere"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("name", "", "a name is required"),
        ("name", "x" * 20_000, "longer than 10000 characters"),
        ("email", "not-an-email", "is not a valid email address"),
        ("name", "bad\x00value", "NUL"),
    ],
)
def test_bad_field_values_change_nothing(
    member: Client, world: dict[str, Any], name: str, value: str, message: str
) -> None:
    jane = world["jane"]
    resp = member.post(f"/records/{jane.id}/fields/{name}", {"value": value, "version": "1"}, **HX)
    assert resp.status_code == 422 and message in body(resp)
    fresh = reload(jane)
    assert fresh.version == 1 and fresh.name == "Jane Doe"


def test_unknown_field_and_bad_version(member: Client, world: dict[str, Any]) -> None:
    jane = world["jane"]
    assert member.post(f"/records/{jane.id}/fields/nope", {"value": "x"}, **HX).status_code == 404
    resp = member.post(f"/records/{jane.id}/fields/name", {"value": "x", "version": "abc"}, **HX)
    assert resp.status_code == 400 and "is not a number" in body(resp)
    # people have no domain
    assert member.get(f"/records/{jane.id}/fields/domain/edit", **HX).status_code == 404


# -- viewers and privacy ------------------------------------------------------------------------


def test_viewer_sees_no_write_controls_and_cannot_write(
    viewer: Client, world: dict[str, Any]
) -> None:
    jane, bob = world["jane"], world["bob"]
    html = body(viewer.get(f"/records/{jane.id}"))
    assert "Jane Doe" in html
    for marker in ("Add a relationship", "Log an interaction", ">Delete<", ">Edit<", ">End<"):
        assert marker not in html, marker
    rel = next(r for r in jane.outgoing.all())
    posts = [
        (f"/records/{jane.id}/fields/name", {"value": "Hacked", "version": "1"}),
        (f"/records/{jane.id}/relationships", {"type": "knows", "other": bob.id}),
        (f"/records/{jane.id}/relationships/{rel.id}/end", {"on": "2026-01-01"}),
        (f"/records/{jane.id}/interactions", {"kind": "call"}),
        (f"/records/{jane.id}/delete", {}),
        (f"/records/{jane.id}/restore", {}),
    ]
    for url, data in posts:
        assert viewer.post(url, data).status_code == 403, url
        assert viewer.post(url, data, **HX).status_code == 403, url
    assert viewer.get(f"/records/{jane.id}/fields/name/edit").status_code == 403
    fresh = reload(jane)
    assert fresh.name == "Jane Doe" and fresh.deleted_at is None and fresh.version == 1


def _private(owner_email: str, name: str = "Secret Sue") -> Record:
    return add_owned_record(
        user=get_user(owner_email), private=True, type_key="person", name=name, emails=[]
    )


def test_private_record_is_404_for_others_and_hidden_from_neighbours(
    make_client: Callable[..., Client], world: dict[str, Any]
) -> None:
    owner = make_client("member")  # member1@our.test
    other = make_client("member")
    secret = _private("member1@our.test")
    relate(secret, "knows", world["jane"])
    log("call", world["sam"], secret, world["jane"], subject="Secret meeting")
    assert owner.get(f"/records/{secret.id}").status_code == 200
    assert other.get(f"/records/{secret.id}").status_code == 404
    assert other.get(f"/records/{secret.id}/map").status_code == 404
    assert other.get(f"/records/{secret.id}/map.json").status_code == 404
    assert other.get(f"/records/{secret.id}/history").status_code == 404
    html = body(other.get(f"/records/{world['jane'].id}"))
    assert "Secret Sue" not in html
    assert "Secret meeting" in html  # the call shows, without the private participant
    assert "Secret Sue" in body(owner.get(f"/records/{world['jane'].id}"))
    # nor can others relate to it or find it in suggestions
    resp = other.post(
        f"/records/{world['jane'].id}/relationships", {"type": "knows", "other": secret.id}, **HX
    )
    assert resp.status_code == 422 and "no record matches" in body(resp)
    assert "Secret Sue" not in body(other.get(f"/records/{world['jane'].id}/suggest?other=Secret"))
    assert "Secret Sue" in body(owner.get(f"/records/{world['jane'].id}/suggest?other=Secret"))
    # nor see it on the map
    assert "Secret Sue" not in body(other.get(f"/records/{world['jane'].id}/map"))
    assert "Secret Sue" not in body(other.get(f"/records/{world['jane'].id}/map.json"))


# -- delete and restore -------------------------------------------------------------------------


def test_delete_and_restore(member: Client, world: dict[str, Any]) -> None:
    bob = world["bob"]
    resp = member.post(f"/records/{bob.id}/delete")
    assert resp.status_code == 302
    assert reload(bob).deleted_at is not None
    html = body(member.get(f"/records/{bob.id}"))
    assert "Deleted Bob Stone" in html and ">Restore<" in html and "Add a relationship" not in html
    assert "Deleted records have no health" in html
    resp = member.post(f"/records/{bob.id}/fields/name", {"value": "X", "version": "2"}, **HX)
    assert resp.status_code == 400 and "restore it first" in body(resp)
    member.post(f"/records/{bob.id}/restore")
    assert reload(bob).deleted_at is None


# -- relationships ------------------------------------------------------------------------------


def test_add_relationship_by_email_name_or_id(member: Client, world: dict[str, Any]) -> None:
    jane, bob = world["jane"], world["bob"]
    org = make_org("Board Co")
    resp = member.post(
        f"/records/{bob.id}/relationships",
        {"type": "works_at", "other": "Board Co", "role": "Advisor", "since": "2024-02-01"},
        **HX,
    )
    assert resp.status_code == 201, body(resp)
    html = body(resp)
    assert "Added: Bob Stone works at Board Co." in html and "Advisor" in html
    assert "since 2024-02-01" in html
    rel = bob.outgoing.get(type_id="works_at")
    assert rel.to_record_id == org.id and rel.role == "Advisor" and rel.source == "web"
    # an inverse name, by email
    resp = member.post(
        f"/records/{world['acme'].id}/relationships",
        {"type": "employs", "other": "bob@else.test"},
        **HX,
    )
    assert resp.status_code == 201
    assert bob.outgoing.filter(type_id="works_at", to_record=world["acme"]).exists()
    # and the relationship shows from the other end
    assert "Bob Stone" in body(member.get(f"/records/{world['acme'].id}"))
    assert jane.id  # world used


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"type": "", "other": "Bob Stone"}, "type", "choose how they are related"),
        ({"type": "knows", "other": ""}, "other", "give the other record"),
        ({"type": "knows", "other": "Nobody Here"}, "other", "no record matches"),
        ({"type": "no_such_type", "other": "Bob Stone"}, "type", "unknown relationship type"),
        ({"type": "works_at", "other": "Bob Stone"}, "type", "joins person -&gt; organization"),
        ({"type": "knows", "other": "Bob Stone", "since": "2020-31-01"}, "since", "not a valid"),
        (
            {"type": "knows", "other": "Bob Stone", "since": "2022-01-01", "until": "2021-01-01"},
            "until",
            "is before since",
        ),
        ({"type": "knows", "other": "Bob Stone", "role": "r" * 300}, "role", "longer than 200"),
    ],
)
def test_bad_relationship_input(
    member: Client, world: dict[str, Any], data: dict[str, str], field: str, message: str
) -> None:
    bob = world["bob"]
    make_person("Al Ike", email="al1@x.test")
    before = bob.outgoing.count() + bob.incoming.count()
    resp = member.post(f"/records/{world['sam'].id}/relationships", data, **HX)
    assert resp.status_code == 422
    html = body(resp)
    assert f'id="rel-{field}-error"' in html and message in html
    assert 'aria-describedby="rel-' + field + '-error"' in html
    assert bob.outgoing.count() + bob.incoming.count() == before
    # without htmx the whole page comes back with the error
    resp = member.post(f"/records/{world['sam'].id}/relationships", data)
    assert resp.status_code == 400 and message in body(resp) and "<html" in body(resp)


def test_ambiguous_reference_lists_candidates(member: Client, world: dict[str, Any]) -> None:
    make_person("Al Ike", email="al1@x.test")
    make_person("Al Ike", email="al2@x.test")
    resp = member.post(
        f"/records/{world['bob'].id}/relationships", {"type": "knows", "other": "Al Ike"}, **HX
    )
    assert resp.status_code == 422
    html = body(resp)
    assert "is ambiguous, it matches 2" in html and "al1@x.test" in html and "al2@x.test" in html


def test_end_relationship(member: Client, world: dict[str, Any]) -> None:
    jane = world["jane"]
    rel = jane.outgoing.get(type_id="knows")
    resp = member.post(f"/records/{jane.id}/relationships/{rel.id}/end", {"on": "2025-06-30"}, **HX)
    assert resp.status_code == 200 and "Ended knows on 2025-06-30" in body(resp)
    rel.refresh_from_db()
    assert rel.until == dt.date(2025, 6, 30)
    assert "until 2025-06-30" in body(resp) and "ended" in body(resp)
    # ending again, or before it began, says why next to the button
    resp = member.post(f"/records/{jane.id}/relationships/{rel.id}/end", {"on": "2025-07-30"}, **HX)
    assert resp.status_code == 422 and "already ended on 2025-06-30" in body(resp)
    work = jane.outgoing.get(type_id="works_at")
    resp = member.post(
        f"/records/{jane.id}/relationships/{work.id}/end", {"on": "2019-01-01"}, **HX
    )
    assert resp.status_code == 422
    assert f'id="end-{work.id}-error"' in body(resp) and "before the relationship began" in body(
        resp
    )
    work.refresh_from_db()
    assert work.until is None
    # default: today
    resp = member.post(f"/records/{jane.id}/relationships/{work.id}/end", {"on": ""}, **HX)
    work.refresh_from_db()
    assert work.until == clock.local_today()


def test_end_someone_elses_relationship_is_404(member: Client, world: dict[str, Any]) -> None:
    rel = world["jane"].outgoing.get(type_id="knows")
    resp = member.post(f"/records/{world['sam'].id}/relationships/{rel.id}/end", {"on": ""})
    assert resp.status_code == 404
    assert member.post(f"/records/{world['sam'].id}/relationships/rel_nope/end").status_code == 404


def test_suggestions(member: Client, world: dict[str, Any]) -> None:
    resp = member.get(f"/records/{world['jane'].id}/suggest?other=bob", **HX)
    assert resp.status_code == 200
    assert f'<option value="{world["bob"].id}">Bob Stone (person, bob@else.test)</option>' in body(
        resp
    )
    assert body(member.get(f"/records/{world['jane'].id}/suggest?other=b")).strip() == ""


# -- timeline and logging -----------------------------------------------------------------------


def test_log_a_call_updates_timeline_and_health(member: Client, world: dict[str, Any]) -> None:
    bob, sam = world["bob"], world["sam"]
    page = body(member.get(f"/records/{bob.id}"))
    assert "nobody on our team has two-way contact" in page
    before = re.search(r'data-score="([0-9.]+)"', page)
    assert before is not None and float(before.group(1)) == 0.0
    assert f'<option value="{sam.id}" selected>' in page  # our side defaults to a team member
    resp = member.post(
        f"/records/{bob.id}/interactions",
        {
            "kind": "call",
            "our_side": sam.id,
            "subject": "Catch-up <b>call</b>",
            "sentiment": "positive",
            "direction": "out",
        },
        **HX,
    )
    assert resp.status_code == 201, body(resp)
    html = body(resp)
    assert "Logged the call." in html
    assert "Catch-up &lt;b&gt;call&lt;/b&gt;" in html
    assert 'id="health" aria-labelledby="health-h" aria-live="polite" hx-swap-oob="true"' in html
    after = re.search(r'data-score="([0-9.]+)"', html)
    assert after is not None and float(after.group(1)) > 0.0
    assert bob.participations.count() == 1


def test_log_on_an_organisation_links_it(member: Client, world: dict[str, Any]) -> None:
    acme, jane = world["acme"], world["jane"]
    resp = member.post(
        f"/records/{acme.id}/interactions",
        {
            "kind": "meeting",
            "our_side": world["sam"].id,
            "with_more": "jane@acme.test",
            "subject": "QBR",
        },
        **HX,
    )
    assert resp.status_code == 201
    assert acme.linked_interactions.count() == 1 and jane.participations.count() == 2
    assert "QBR" in body(resp)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "bad kind!"}, "kind", "is not a valid interaction kind"),
        ({"kind": "call", "with_more": "Nobody Known"}, "with", "no record matches"),
        ({"kind": "call", "at": "tomorrow-ish"}, "at", "is not a valid time"),
        ({"kind": "call", "direction": "sideways"}, "direction", "is not one of in, out"),
        ({"kind": "call", "sentiment": "meh"}, "sentiment", "is not a number from -1 to 1"),
        ({"kind": "call", "subject": "s" * 600}, "subject", "longer than 500"),
    ],
)
def test_bad_log_input_changes_nothing(
    member: Client, world: dict[str, Any], data: dict[str, str], field: str, message: str
) -> None:
    count = Interaction.objects.count()
    resp = member.post(f"/records/{world['bob'].id}/interactions", data, **HX)
    assert resp.status_code == 422
    assert f'id="log-{field}-error"' in body(resp) and message in body(resp)
    assert Interaction.objects.count() == count


def test_timeline_pages_with_load_more(member: Client, world: dict[str, Any]) -> None:
    jane, sam = world["jane"], world["sam"]
    for day in range(1, 26):
        log("email", sam, jane, at=f"2025-03-{day:02d}T09:00", subject=f"Mail {day}")
    html = body(member.get(f"/records/{jane.id}"))
    # 20 a page: the kick-off call, then Mail 25 down to Mail 7
    assert "Mail 25<" in html and "Mail 7<" in html and "Mail 6<" not in html
    match = re.search(r'hx-get="(/records/[^"]+/timeline\?[^"]+)"', html)
    assert match is not None
    more = member.get(match.group(1).replace("&amp;", "&"), **HX)
    assert more.status_code == 200
    assert "Mail 6<" in body(more) and "Mail 1<" in body(more) and "Mail 7<" not in body(more)
    assert "Load more" not in body(more)
    bad = member.get(f"/records/{jane.id}/timeline?more=not-a-cursor", **HX)
    assert bad.status_code == 400 and "is not a cursor" in body(bad)


def test_load_more_never_skips_interactions_of_the_same_second(
    member: Client, world: dict[str, Any]
) -> None:
    jane, sam = world["jane"], world["sam"]
    for n in range(25):
        log("email", sam, jane, at="2025-03-01T09:00:00", subject=f"Same second {n}")
    html = body(member.get(f"/records/{jane.id}"))
    first = set(re.findall(r"Same second (\d+)<", html))
    match = re.search(r'hx-get="(/records/[^"]+/timeline\?[^"]+)"', html)
    assert match is not None and 0 < len(first) < 25
    more = body(member.get(match.group(1).replace("&amp;", "&"), **HX))
    rest = set(re.findall(r"Same second (\d+)<", more))
    assert first.isdisjoint(rest) and first | rest == {str(n) for n in range(25)}


def test_history_page(member: Client, world: dict[str, Any]) -> None:
    jane = world["jane"]
    with acting_as("editor@our.test"):
        update_record(ref=jane.id, values={"name": "Jane Renamed"})
    html = body(member.get(f"/records/{jane.id}/history"))
    assert "Jane Renamed" in html and "editor@our.test" in html and "relationship" in html


# -- query counts -------------------------------------------------------------------------------


def _grow(world: dict[str, Any], n: int) -> None:
    jane, sam = world["jane"], world["sam"]
    for i in range(n):
        other = make_person(f"Friend {i}", email=f"f{i}@x.test")
        relate(jane, "knows", other)
        log("email", sam, jane, other, at=f"2025-04-{1 + i % 28:02d}T09:00")


def _count(client: Client, url: str) -> int:
    client.get(url)  # warm caches (graph, pair table)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_record_page_queries_do_not_grow_with_the_record(
    member: Client, world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    jane = world["jane"]
    small = _count(member, f"/records/{jane.id}")
    _grow(world, 15)
    big = _count(member, f"/records/{jane.id}")
    assert big <= small + 2, (small, big)
    with django_assert_max_num_queries(120):
        member.get(f"/records/{jane.id}")
    with django_assert_max_num_queries(200):
        member.get(f"/records/{world['acme'].id}")


def test_correct_delete_and_undo_an_interaction_from_the_timeline(
    member: Client, world: dict[str, Any]
) -> None:
    jane, sam = world["jane"], world["sam"]
    call = log("call", sam, jane, at="2025-04-01T09:00", subject="Wrong subject")
    html = body(member.get(f"/records/{jane.id}"))
    assert f"/interactions/{call.id}/edit" in html and "Correct…" in html
    fixed = member.post(
        f"/records/{jane.id}/interactions/{call.id}/edit",
        {"subject": "Right subject", "at": "2025-04-02T09:00:00+00:00", "outcome": "agreed"},
        **HX,
    )
    assert fixed.status_code == 200 and "Corrected the call." in body(fixed)
    assert "Right subject" in body(fixed) and "Wrong subject" not in body(fixed)
    gone = member.post(f"/records/{jane.id}/interactions/{call.id}/delete", **HX)
    assert gone.status_code == 200 and "Deleted the call." in body(gone)
    assert "Right subject" not in body(gone).split("</p>", 1)[1]  # off the timeline ...
    assert f"/interactions/{call.id}/restore" in body(gone)  # ... with an Undo
    back = member.post(f"/records/{jane.id}/interactions/{call.id}/restore", **HX)
    assert back.status_code == 200 and "Right subject" in body(back)
    bad = member.post(
        f"/records/{jane.id}/interactions/{call.id}/edit",
        {"subject": "x", "at": "not a time", "outcome": ""},
        **HX,
    )
    assert bad.status_code == 422 and "at: " in body(bad)
    assert member.post(f"/records/{jane.id}/interactions/int_nope/delete", **HX).status_code == 422


def test_a_relationship_that_starts_later_is_upcoming_not_ended(
    member: Client, world: dict[str, Any]
) -> None:
    jane = world["jane"]
    later = (clock.today() + dt.timedelta(days=30)).isoformat()
    newco = make_org("Newco")
    rel_id = relate(jane, "works_at", newco, role="advisor", since=later).id
    html = body(member.get(f"/records/{jane.id}"))
    item = html[html.index(f'id="rel-{rel_id}"') :].split("</li>", 1)[0]
    assert "upcoming" in item and "ended" not in item
    code = member.get(f"/api/v1/records/{jane.id}/relationships").json()
    row = next(r for r in code["items"] if r["id"] == rel_id)
    assert row["upcoming"] is True and row["active"] is False
