"""The web pages: the board (with its move form), the funnel's SVG, the record page's Deals
section and its new-deal form; privacy on each; every page passes the accessibility check."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from kith.accounts.selectors import get_user
from kith.accounts.services import set_private
from kith.core.viewer import SYSTEM
from kith.pipelines import services
from kith.pipelines.models import Position
from kith.records.models import Record
from kith.web.tests.conftest import _no_rate_limit, make_client, member, viewer
from kith.web.tests.test_accessibility import check

__all__ = ["_no_rate_limit", "make_client", "member", "viewer"]


def test_board_funnel_and_deal_section(world: dict[str, Any], member: Client) -> None:
    d = services.add_deal(viewer=SYSTEM, account="Acme", name="Acme renewal", amount=1200, at="2026-06-01",
                          contacts=[("Lee Park", "champion")])  # fmt: skip
    html = member.get("/deals").content.decode()
    check(html, "/deals")
    assert "Acme renewal" in html and 'data-stage="proposal"' in html
    # the form fallback moves it
    resp = member.post(f"/deals/{d.id}/move", {"stage": "proposal", "next": "/deals"})
    assert resp.status_code == 302 and resp["Location"] == "/deals"
    assert Position.objects.get(record=d).stage.key == "proposal"
    # a lost move without the required reason is refused and says why
    member.post(f"/deals/{d.id}/move", {"stage": "lost", "next": "/deals"})
    assert Position.objects.get(record=d).stage.key == "proposal"
    assert "needs a lost reason" in member.get("/deals").content.decode()
    funnel = member.get("/funnel?from=2026-05-01").content.decode()
    check(funnel, "/funnel")
    assert '<svg class="funnel-chart"' in funnel and re.search(
        r'<rect class="funnel-bar funnel-open"', funnel
    )
    assert "<td>1</td>" in funnel
    section = member.get(f"/records/{d.id}/deals").content.decode()
    assert "proposal" in section and "Lee Park" in section and "champion" in section
    acct = member.get(f"/records/{world['acme'].id}/deals").content.decode()
    assert "Acme renewal" in acct and "New deal" in acct
    page = member.get(f"/records/{world['acme'].id}").content.decode()
    assert 'id="record-deals"' in page


def test_a_deal_from_an_account_page(world: dict[str, Any], member: Client) -> None:
    resp = member.post(
        f"/records/{world['acme'].id}/deals/new",
        {
            "name": "New one",
            "amount": "300",
            "contact": "Lee Park",
            "role": "decision_maker",
            "source": "web",
        },
    )
    deal = Record.objects.get(type_id="deal", name="New one")
    assert resp.status_code == 302 and resp["Location"] == f"/records/{deal.id}"
    assert deal.fields["amount"] == 300.0 and deal.fields["source"] == "web"
    resp = member.post(f"/records/{world['acme'].id}/deals/new", {"name": "Bad", "amount": "lots"})
    assert resp.status_code == 302 and not Record.objects.filter(name="Bad").exists()
    assert (
        "amount: &#39;lots&#39; is not a number"
        in member.get(f"/records/{world['acme'].id}").content.decode()
    )


def test_viewers_may_not_move_and_private_deals_stay_hidden(
    world: dict[str, Any], make_client: Any
) -> None:
    owner = make_client("member")
    other = make_client("member")
    watcher = make_client("viewer")
    d = services.add_deal(
        viewer=SYSTEM, account="Acme", name="Secret deal", amount=999, at="2026-06-01"
    )
    set_private(record=d, private=True, user=get_user("member1@our.test"))
    assert "Secret deal" in owner.get("/deals").content.decode()
    for path in ("/deals", "/funnel?from=2026-05-01", f"/records/{world['acme'].id}/deals"):
        body = other.get(path).content.decode()
        assert "Secret deal" not in body and "999" not in body, path
    assert other.get(f"/records/{d.id}/deals").status_code == 404
    assert (
        ">0<" in other.get("/deals").content.decode()
        or "0 deals" in other.get("/deals").content.decode()
    )
    resp = watcher.post(f"/deals/{d.id}/move", {"stage": "won"})
    assert resp.status_code in (302, 403) and Position.objects.get(record=d).stage.key == "lead"


def test_dashboard_pages(world: dict[str, Any], member: Client) -> None:
    d = services.add_deal(
        viewer=SYSTEM, account="Acme", name="Won one", amount=700, at="2026-05-01"
    )
    services.win(viewer=SYSTEM, ref=d.id, at="2026-06-01")
    services.save_dashboard(key="sales", starter="sales")
    services.save_dashboard(
        key="acme",
        name="Acme",
        widgets=[{"metric": "deals.won", "group": ["Acme"], "chart": "bar"}],
    )
    listing = member.get("/dashboards").content.decode()
    check(listing, "/dashboards")
    assert "Sales outcomes" in listing
    html = member.get("/dashboards/sales?as_of=2026-06-15").content.decode()
    check(html, "/dashboards/sales")
    assert (
        "<strong>700.0</strong>" in html
        and '<svg class="funnel-chart"' in html
        and "<polyline" in html
    )
    bar = member.get("/dashboards/acme?as_of=2026-06-15").content.decode()
    check(bar, "/dashboards/acme")
    assert f'href="/records/{world["acme"].id}"' in bar
    assert member.get("/dashboards/nope").status_code == 404
