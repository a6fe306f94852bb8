"""The first journey: signing in and out in a real browser."""

from __future__ import annotations

from typing import Any

from kith.web.tests.browser.conftest import ADMIN, sign_in


def test_sign_in_then_out(page: Any) -> None:
    page.goto("/")
    assert "/login" in page.url  # not signed in: sent to the sign-in page
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("That email and password")
    sign_in(page)
    assert page.locator("span.who").inner_text() == ADMIN
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")


def test_slash_focuses_search(page: Any) -> None:
    sign_in(page)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "global-search"
