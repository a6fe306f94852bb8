"""The record page's summary header, the organisation's "who knows whom" grid, the as-of view
of field values, the keyboard's markup and the date helpers (issue 11, part B)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from kith.accounts.selectors import viewer_of
from kith.core import clock
from kith.core.viewer import SYSTEM
from kith.interactions.selectors import next_planned
from kith.records.models import Record
from kith.records.services import add_record, define_type, update_record
from kith.testing import log, make_home, make_org, make_person
from kith.web.jinja import ago, initials, reltime

HX = {"HTTP_HX_REQUEST": "true"}


def body(resp: Any) -> str:
    return resp.content.decode()


@pytest.fixture
def world(time_travel: Any) -> dict[str, Any]:
    """Our Co: Sam (talks to Jane weekly) and Mia (one old call with Raj). Acme: Jane, Raj, and
    Quinn, an owner's private person whom Sam meets often. A call with Jane is planned."""
    time_travel.to("2026-01-01T09:00:00Z")
    home = make_home()
    sam = make_person("Sam Seller", email="sam@our.test", org=home, since="2020-01-01")
    mia = make_person("Mia Team", email="mia@our.test", org=home, since="2020-01-01")
    acme = make_org("Acme", domains=("acme.test",))
    jane = make_person("Jane Doe", email="jane@acme.test", org=acme, role="CTO", since="2020-01-01")
    raj = make_person("Raj Roe", org=acme, role="engineer", since="2020-01-01")
    quinn = make_person("Quiet Quinn", org=acme, role="champion", since="2020-01-01")
    start = dt.date(2026, 2, 1)
    for i in range(12):
        day = (start + dt.timedelta(days=7 * i)).isoformat()
        log("meeting", sam, jane, at=f"{day}T10:00:00Z", subject=f"Weekly {i}")
        log("meeting", sam, quinn, at=f"{day}T11:00:00Z", subject=f"Quinn {i}")
    log("call", mia, raj, at="2026-03-02T10:00:00Z", subject="Intro")
    time_travel.to("2026-05-01T12:00:00Z")
    log("call", sam, jane, at="2026-05-20T15:00:00Z", subject="Renewal review")
    return {"sam": sam, "mia": mia, "acme": acme, "jane": jane, "raj": raj, "quinn": quinn}


def _hide(record: Record, owner_email: str) -> None:
    owner = get_user_model().objects.get(username=owner_email)
    Record.objects.filter(pk=record.pk).update(private=True, owner=owner)


def _summary(html: str) -> str:
    found = re.search(r'<dl class="summary".*?</dl>', html, re.S)
    assert found, "no summary header"
    return found.group(0)


def test_person_header_says_health_last_contact_who_knows_them_and_what_is_next(
    member: Client, world: dict[str, Any]
) -> None:
    html = body(member.get(f"/records/{world['jane'].id}"))
    head = _summary(html)
    score = re.search(r'class="summary-score" href="#health">(\d+)<', head)
    assert score and int(score.group(1)) > 0
    assert re.search(r'class="band band-(strong|good|fair|weak|cold)">', head)
    # last two-way contact: the last weekly meeting, 2026-04-19, relative with the exact day
    assert '<time datetime="2026-04-19" title="2026-04-19">12 days ago</time>' in head
    # Sam knows her, with the strength of the tie; Mia never talked to her
    assert f'href="/records/{world["sam"].id}">Sam Seller</a>' in head
    assert "Mia Team" not in head
    # the planned call, relative, not as last contact
    assert "Renewal review" in head and "in 3 weeks" in head
    # the avatar: round initials
    assert 'class="avatar avatar-person' in html and ">JD</span>" in html


def test_organisation_header_and_who_knows_whom_grid(member: Client, world: dict[str, Any]) -> None:
    html = body(member.get(f"/records/{world['acme'].id}"))
    head = _summary(html)
    assert "Sam Seller" in head and ("with Quiet Quinn" in head or "with Jane Doe" in head)
    grid = re.search(r'<section class="card" id="who-knows-whom".*?</section>', html, re.S)
    assert grid, "no grid on an organisation"
    text = grid.group(0)
    cols = re.findall(r'<th scope="col"><a href="/records/([^"]+)">', text)
    assert cols[:2] == [world["sam"].id, world["mia"].id]  # strongest ties first
    rows = re.findall(r'<th scope="row"><a href="/records/([^"]+)">([^<]+)</a>', text)
    assert {name for _, name in rows} == {"Jane Doe", "Quiet Quinn", "Raj Roe"}
    # Raj's row: no tie with Sam, one (weak) with Mia
    raj = re.search(r"Raj Roe</a></th>(.*?)</tr>", text, re.S)
    assert raj is not None
    cells = re.findall(r'<td class="num">(.*?)</td>', raj.group(1), re.S)
    assert 'title="no tie"' in cells[0] and re.search(r">\d+</span>", cells[1])
    # a person page has no grid
    assert 'id="who-knows-whom"' not in body(member.get(f"/records/{world['jane'].id}"))


def test_private_person_is_in_no_header_or_grid_of_another_user(
    world: dict[str, Any], make_client: Any
) -> None:
    owner = make_client("member")
    other = make_client("member")
    _hide(world["quinn"], "member1@our.test")
    seen_by_owner = body(owner.get(f"/records/{world['acme'].id}"))
    assert "Quiet Quinn" in seen_by_owner
    html = body(other.get(f"/records/{world['acme'].id}"))
    assert "Quiet Quinn" not in html and "Quinn 1" not in html
    # a private teammate is not named as the one who knows them best either
    _hide(world["sam"], "member1@our.test")
    html = body(other.get(f"/records/{world['jane'].id}"))
    assert "Sam Seller" not in _summary(html)
    assert "Sam Seller" in _summary(body(owner.get(f"/records/{world['jane'].id}")))


def test_next_planned_leaves_out_what_the_viewer_may_not_see(
    world: dict[str, Any], make_client: Any
) -> None:
    owner = make_client("member")
    make_client("member")
    users = get_user_model().objects
    log("meeting", world["quinn"], at="2026-05-10T09:00:00Z", subject="Quinn alone")
    _hide(world["quinn"], "member1@our.test")
    seen = next_planned(viewer_of(users.get(username="member1@our.test")), world["quinn"])
    assert seen is not None and seen["subject"] == "Quinn alone"
    assert next_planned(viewer_of(users.get(username="member2@our.test")), world["quinn"]) is None
    assert "Quinn alone" in _summary(body(owner.get(f"/records/{world['quinn'].id}")))
    # a past interaction is not "next"; the earliest future one is
    jane = next_planned(SYSTEM, world["jane"])
    assert jane is not None and jane["subject"] == "Renewal review" and jane["planned"]


def test_trend_fragment_fills_the_header_sparkline(member: Client, world: dict[str, Any]) -> None:
    html = body(member.get(f"/records/{world['jane'].id}/health", **HX))
    spark = re.search(
        r'<span id="summary-spark" class="spark-slot" hx-swap-oob="true">.*?</span>', html, re.S
    )
    assert spark and "<polyline" in spark.group(0) and "style=" not in spark.group(0)
    # the full trend page (no htmx) swaps nothing out of band
    assert "hx-swap-oob" not in body(member.get(f"/records/{world['jane'].id}/health"))


def test_as_of_shows_field_values_as_they_were_without_edit_links(
    member: Client, time_travel: Any
) -> None:
    time_travel.to("2026-01-05T10:00:00Z")
    make_home()
    acme = make_org("Acme", domains=("acme.test",))
    jane = make_person("Jane Doe", email="jane@acme.test", org=acme)
    time_travel.to("2026-03-10T10:00:00Z")
    update_record(ref=jane.id, values={"name": "Jane Smith", "email": "jane@smith.test"})
    time_travel.to("2026-04-01T10:00:00Z")
    html = body(member.get(f"/records/{jane.id}?as_of=2026-02-01"))
    assert '<h1 id="record-name">Jane Doe</h1>' in html
    fields = re.search(r'<section class="card" id="fields".*?</section>', html, re.S)
    assert fields is not None
    assert "Details on 2026-02-01" in fields.group(0)
    assert "jane@acme.test" in fields.group(0) and "jane@smith.test" not in fields.group(0)
    assert "Jane Doe" in fields.group(0) and "Jane Smith" not in fields.group(0)
    assert "/edit" not in fields.group(0) and ">Edit<" not in html
    assert ">Delete<" not in html  # changes are made from today's view
    # today: the new values, with edit links
    html = body(member.get(f"/records/{jane.id}"))
    assert '<h1 id="record-name">Jane Smith</h1>' in html and "/fields/name/edit" in html
    # a day after the change shows the change; a day before the record existed says so
    assert "Jane Smith</h1>" in body(member.get(f"/records/{jane.id}?as_of=2026-03-10"))
    html = body(member.get(f"/records/{jane.id}?as_of=2025-12-01"))
    assert "was not in Kith yet on 2025-12-01 (added 2026-01-05)" in html


def test_custom_field_as_of(member: Client, time_travel: Any) -> None:
    time_travel.to("2026-01-05T10:00:00Z")
    make_home()
    define_type(key="vendor", fields=["tier:choice:gold|silver"])

    v = add_record(type_key="vendor", name="Parts Co", fields={"tier": "silver"})
    time_travel.to("2026-02-10T10:00:00Z")
    update_record(ref=v.id, values={"tier": "gold"})
    html = body(member.get(f"/records/{v.id}?as_of=2026-01-20"))
    row = re.search(r'id="field-tier".*?</div>', html, re.S)
    assert row and "silver" in row.group(0) and "gold" not in row.group(0)
    row = re.search(r'id="field-tier".*?</div>', body(member.get(f"/records/{v.id}")), re.S)
    assert row and "gold" in row.group(0)


def test_palette_shortcuts_and_search_limit_are_on_every_page(
    member: Client, world: dict[str, Any]
) -> None:
    html = body(member.get("/"))
    assert '<dialog id="palette"' in html and 'data-search="/api/v1/search"' in html
    assert '<dialog id="shortcuts"' in html and "<kbd>g</kbd> <kbd>p</kbd>" in html
    assert "/static/web/palette.js" in html
    assert re.search(r'id="global-search"[^>]*maxlength="300"', html)
    # the record page adds its own actions to the palette
    html = body(member.get(f"/records/{world['jane'].id}"))
    actions = re.search(r'<template id="palette-actions">.*?</template>', html, re.S)
    assert actions and "Log an interaction with Jane Doe" in actions.group(0)
    # a search longer than the limit is a clear message, not a raw 414
    resp = member.get("/search", {"q": "x" * 301})
    assert resp.status_code == 400 and "longer than 300 characters" in body(resp)
    resp = member.get("/search", {"q": "x" * 301}, **HX)
    assert "longer than 300 characters" in body(resp)


def test_ids_are_out_of_sight_but_copyable(member: Client, world: dict[str, Any]) -> None:
    html = body(member.get(f"/records/{world['jane'].id}"))
    head = re.search(r'<section class="card record-head".*?<dl', html, re.S)
    assert head is not None
    assert f'data-copy="{world["jane"].id}"' in head.group(0)
    assert f">{world['jane'].id}<" not in head.group(0)  # not printed as text


def test_relative_dates_and_initials(time_travel: Any) -> None:
    time_travel.to("2026-06-15T12:00:00Z")
    today = clock.local_today()
    assert ago(today) == "today"
    assert ago(today - dt.timedelta(days=1)) == "yesterday"
    assert ago(today + dt.timedelta(days=1)) == "tomorrow"
    assert ago((today - dt.timedelta(days=3)).isoformat()) == "3 days ago"
    assert ago(today + dt.timedelta(days=21)) == "in 3 weeks"
    assert ago(today - dt.timedelta(days=120)) == "4 months ago"
    assert ago(today - dt.timedelta(days=800)) == "2 years ago"
    assert ago("") == "" and ago("not a date") == "not a date"
    tag = str(reltime("2026-06-12"))
    assert tag == '<time datetime="2026-06-12" title="2026-06-12">3 days ago</time>'
    assert str(reltime("<script>")) == ""
    assert initials("Jane Doe") == "JD" and initials("acme") == "A"
    assert initials("Mary Ann van Dyke") == "MD" and initials("") == "?"


def test_home_says_what_to_do_today(
    member: Client, world: dict[str, Any], time_travel: Any
) -> None:
    from kith.tasks.services import create_task  # noqa: PLC0415

    html = body(member.get("/"))
    today = re.search(r'<section class="card today".*?</section>', html, re.S)
    assert today is not None
    assert '<span class="today-n">0</span> overdue tasks' in today.group(0)
    create_task(
        viewer=SYSTEM, title="Send the renewal quote", due="2026-04-28", about=[world["jane"]]
    )
    html = body(member.get("/"))
    today = re.search(r'<section class="card today".*?</section>', html, re.S)
    assert today is not None
    text = today.group(0)
    assert '<span class="today-n">1</span> overdue task<' in text
    assert "Start with: <strong>Send the renewal quote</strong>" in text
    assert f'href="/records/{world["jane"].id}">Jane Doe</a>' in text and "3 days ago" in text
    assert 'href="/at-risk"' in text


def test_pages_say_organisation(member: Client, world: dict[str, Any]) -> None:
    html = body(member.get(f"/records/{world['acme'].id}"))
    assert '<span class="tag">Organisation</span>' in html and ">Organization<" not in html
    quick = body(member.get("/search", {"q": "Acme"}, **HX))
    assert ">Organisation</span>" in quick and "Organization" not in quick
    full = body(member.get("/search", {"q": "Acme"}))
    assert ">Organisation</span>" in full
    person = body(member.get(f"/records/{world['jane'].id}"))  # her relationships panel
    assert '<span class="tag">organisation</span>' in person and ">organization<" not in person
