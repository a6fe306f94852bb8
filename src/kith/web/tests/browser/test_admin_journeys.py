"""Admin journeys in a real browser: define a record type with fields, add a relationship
type, add a user, create an API token, and find all of it in the audit log."""

from __future__ import annotations

import json
from typing import Any

from kith.web.tests.browser.conftest import ADMIN, MEMBER, LiveKith, sign_in


def _section(page: Any) -> Any:
    return page.locator("#admin-section")


def test_admin_sets_up_the_workspace(page: Any, live: LiveKith) -> None:
    sign_in(page, ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    page.wait_for_url("**/admin")
    page.get_by_role("navigation", name="Admin sections").get_by_role(
        "link", name="Record types"
    ).click()
    page.wait_for_url("**/admin/types")

    # a custom type with two fields; the second row comes from "Add another field"
    form = page.locator("form", has=page.get_by_role("button", name="Define type"))
    form.get_by_label("Key").fill("partner_firm")
    form.get_by_label("Label (optional)").fill("Partner firm")
    form.locator("[name='f0-name']").fill("tier")
    form.locator("[name='f0-kind']").select_option("choice")
    form.locator("[name='f0-choices']").fill("gold|silver")
    form.locator("[name='f0-required']").check()
    for _ in range(2):
        form.get_by_role("button", name="Add another field").click()
    assert form.locator("[data-field-row]").count() == 5
    form.locator("[name='f4-name']").fill("website")
    form.locator("[name='f4-kind']").select_option("url")
    form.get_by_role("button", name="Define type").click()
    notice = _section(page).get_by_role("status")
    notice.wait_for()
    assert "Partner firm (partner_firm) defined with 2 field(s)" in notice.inner_text()
    card = page.locator(
        "section", has=page.get_by_role("heading", name="Partner firm partner_firm")
    )
    assert card.get_by_role("cell", name="tier").is_visible()
    assert card.get_by_role("cell", name="website").is_visible()
    assert card.get_by_text("gold").is_visible()

    # a bad field shows its error next to the control, and focus moves there
    card.get_by_text("Add a field to Partner firm").click()
    card.get_by_label("Field name").fill("tier")
    card.get_by_role("button", name="Add field").click()
    error = page.locator("#field-partner_firm-name-error")
    error.wait_for()
    assert "already has a field" in error.inner_text()
    assert page.evaluate("document.activeElement.id") == "field-partner_firm-name"

    # a relationship type from the new type to organisations
    page.get_by_role("link", name="Relationship types").click()
    page.wait_for_url("**/admin/relationship-types")
    form = page.locator("form", has=page.get_by_role("button", name="Add relationship type"))
    form.get_by_label("Name", exact=True).fill("partners_with_firm")
    form.get_by_label("Inverse name").fill("has_partner_firm")
    form.locator("#rt-from-partner_firm").check()
    form.locator("#rt-to-organization").check()
    form.get_by_role("button", name="Add relationship type").click()
    _section(page).get_by_text("Relationship type partners_with_firm added.").wait_for()
    row = page.get_by_role("row", name="partners_with_firm")
    assert "has_partner_firm" in row.inner_text() and "partner_firm" in row.inner_text()

    # a user in the sales team: the one-time password shows once
    page.get_by_role("link", name="Users and teams").click()
    page.wait_for_url("**/admin/users")
    form = page.locator("form", has=page.get_by_role("button", name="Add user"))
    form.get_by_label("Email").fill("newhire@demo.test")
    form.get_by_label("Role").select_option("member")
    form.get_by_label("Team (optional)").fill("sales")
    form.get_by_role("button", name="Add user").click()
    secret = page.locator(".secret-value")
    secret.wait_for()
    password = secret.inner_text()
    assert len(password) >= 10
    assert page.get_by_role("heading", name="sales").is_visible()
    done = live.kith("user", "list", "--json")
    assert done.returncode == 0, done.stderr
    users = {u["email"]: u for u in json.loads(done.stdout)}
    assert users["newhire@demo.test"]["team"] == "sales"

    # an API token: the secret shows once, and not on the next visit
    page.get_by_role("navigation", name="Admin sections").get_by_role(
        "link", name="API tokens"
    ).click()
    page.wait_for_url("**/admin/tokens")
    form = page.locator("form", has=page.get_by_role("button", name="Create token"))
    form.get_by_label("Name").fill("journey script")
    form.get_by_label("Expires after (days)").fill("7")
    form.get_by_role("button", name="Create token").click()
    page.locator(".secret-value").wait_for()
    token = page.locator(".secret-value").inner_text()
    assert token.startswith("kith_")
    page.reload()
    assert token not in page.content() and "journey script" in page.content()

    # all of it is in the audit log, filterable by action
    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url("**/admin/audit")
    log = page.locator("#admin-section table").inner_text()
    for action in ["type.defined", "reltype.added", "user.added", "token.created"]:
        assert action in log, action
    assert "newhire@demo.test" in log and password not in page.content()
    filters = page.get_by_role("search", name="Filter the audit log")
    filters.get_by_label("Action").fill("reltype.added")
    filters.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/admin/audit?action=reltype.added*")
    rows = page.locator("#admin-section tbody tr")
    assert rows.count() == 1 and "partners_with_firm" in rows.inner_text()


def test_members_see_only_their_own_tokens_and_no_admin(page: Any) -> None:
    sign_in(page, MEMBER)
    assert (
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").count() == 0
    )
    resp = page.goto("/admin/users")
    assert resp is not None and resp.status == 403
    page.goto("/account/tokens")
    form = page.locator("form", has=page.get_by_role("button", name="Create token"))
    form.get_by_label("Name").fill("member laptop")
    form.get_by_role("button", name="Create token").click()
    page.locator(".secret-value").wait_for()
    page.on("dialog", lambda dialog: dialog.accept())  # "Revoke token ...?"
    page.get_by_role("button", name="Revoke member laptop").click()
    _section(page).get_by_text("Revoked token").wait_for()
    assert page.get_by_role("row", name="member laptop").get_by_text("revoked").is_visible()


def test_admin_pages_fit_a_phone(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, ADMIN)
    for url in ["/admin", "/admin/types", "/admin/users", "/admin/audit"]:
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (url, width)
