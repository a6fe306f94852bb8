"""Every control of every main page has a label, every page has one h1 and a language, and
no page carries inline script or style (the Content-Security-Policy would refuse them)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from kith.core.viewer import SYSTEM
from kith.plans.services import add_plan, add_stakeholder
from kith.testing import log, make_home, make_org, make_person, relate

CONTROLS = {"input", "select", "textarea"}
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labels: set[str] = set()
        self.controls: list[tuple[str, dict[str, str | None], bool]] = []
        self.open_labels = 0
        self.h1 = 0
        self.lang = ""
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang") or ""
        if tag == "h1":
            self.h1 += 1
        if tag == "label":
            self.open_labels += 1
            if a.get("for"):
                self.labels.add(str(a["for"]))
        if tag in CONTROLS:
            self.controls.append((tag, a, self.open_labels > 0))
        if tag == "style" or "style" in a:
            self.inline.append(f"<{tag} style>")
        if tag == "script" and not a.get("src"):
            self.inline.append("<script> without src")
        self.inline += [f"<{tag} {k}>" for k in a if k.startswith("on")]

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels -= 1

    def unlabelled(self) -> list[str]:
        out = []
        for tag, a, wrapped in self.controls:
            if tag == "input" and (a.get("type") or "text") in UNLABELLED_TYPES:
                continue
            if wrapped or a.get("aria-label") or a.get("aria-labelledby") or a.get("title"):
                continue
            if a.get("id") and a["id"] in self.labels:
                continue
            out.append(f"<{tag} name={a.get('name')!r} id={a.get('id')!r}>")
        return out


@pytest.fixture
def pages() -> list[str]:
    home = make_home()
    me = make_person("Mia Member", email="admin1@our.test", org=home)
    acme = make_org("Acme", domains=("acme.test",))
    jane = make_person("Jane Doe", email="jane@acme.test", org=acme, role="CTO")
    relate(jane, "knows", me)
    log("call", me, jane, subject="Intro")
    plan = add_plan(viewer=SYSTEM, account=acme.id, name="Acme plan")
    add_stakeholder(viewer=SYSTEM, plan=plan.id, person=jane.id, role="champion")
    return [
        "/",
        "/search?q=Jane",
        "/people",
        "/orgs",
        f"/records/{jane.id}",
        f"/records/{acme.id}",
        f"/records/{jane.id}/map",
        f"/records/{acme.id}/map?stakeholders=1",
        f"/records/{jane.id}/history",
        "/import",
        "/duplicates",
        "/admin",
        "/admin/types",
        "/admin/relationship-types",
        "/admin/users",
        "/admin/tokens",
        "/admin/webhooks",
        "/admin/audit",
        "/account/tokens",
        "/tasks",
        "/tasks?show=overdue",
        "/rules",
        "/rules/new",
        "/best",
        "/at-risk?type=organization",
        "/new/person",
        f"/new/organization?name=Beta&link_to={jane.id}&link_type=works_at",
    ]


def check(html: str, where: str) -> None:
    page = Page()
    page.feed(html)
    assert page.lang == "en", where
    assert page.h1 == 1, f"{where}: {page.h1} h1 headings"
    assert page.unlabelled() == [], f"{where}: controls without a label"
    assert page.inline == [], f"{where}: inline script or style"


def test_every_control_is_labelled(admin: Client, pages: list[str]) -> None:
    for path in pages:
        resp = admin.get(path)
        assert resp.status_code == 200, path
        check(resp.content.decode(), path)


def test_sign_in_page_is_labelled() -> None:
    check(Client().get("/login").content.decode(), "/login")


def test_the_checker_finds_unlabelled_controls_and_inline_code() -> None:
    page = Page()
    page.feed(
        '<html lang="en"><h1>x</h1><label for="a">A</label><input id="a">'
        '<label>B <input name="b"></label><input name="c"><select name="d"></select>'
        '<input type="hidden" name="e"><div style="color: red" onclick="go()"></div>'
        "<script>alert(1)</script></html>"
    )
    assert page.unlabelled() == ["<input name='c' id=None>", "<select name='d' id=None>"]
    assert page.inline == ["<div style>", "<div onclick>", "<script> without src"]
