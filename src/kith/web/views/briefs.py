"""Pages: the brief of a record (/records/ID/brief) and of a meeting (/meetings/ID/brief),
print-friendly, with the same brief as Markdown or PDF (?format=). Every read through
kith.briefs.selectors, given the signed-in user's viewer."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.http import require_GET

from kith.briefs import render
from kith.briefs.digest import digests_of, subscription_view, team_cards
from kith.briefs.digest_render import atom_feed
from kith.briefs.selectors import brief, parse_as_of
from kith.briefs.services import open_coaching, subscribe
from kith.core.errors import KithError, NotFound
from kith.web.views.base import notify, page, signed_in, viewer
from kith.web.views.record_data import text_input

FILE_TYPES = {"markdown": ("text/markdown; charset=utf-8", "md"), "pdf": ("application/pdf", "pdf")}


def _me(request: HttpRequest) -> User:
    """The signed-in user (``signed_in`` has checked there is one)."""
    return cast(User, request.user)


def _show(request: HttpRequest, data: dict[str, object], back: str) -> HttpResponse:
    fmt = render.check_format(text_input(request.GET, "format", max_len=10) or "html")
    if fmt in FILE_TYPES:
        kind, ext = FILE_TYPES[fmt]
        body = render.render(data, fmt, base=request.build_absolute_uri("/").rstrip("/"))
        resp = HttpResponse(body, content_type=kind)
        resp["Content-Disposition"] = f'attachment; filename="brief.{ext}"'
        return resp
    query = {k: v for k, v in request.GET.items() if k in ("since", "as_of")}
    ctx = {
        "b": data,
        "title": render.title(data),
        "href": render.href,
        "back": back,
        "q": query,
        "pdf_href": "?" + urlencode({**query, "format": "pdf"}),
        "md_href": "?" + urlencode({**query, "format": "markdown"}),
    }
    return page(request, "web/brief.html", ctx)


@require_GET
@signed_in()
def record_brief(request: HttpRequest, rid: str) -> HttpResponse:
    """The brief of an organisation or person (?since=7d|DATE|last-review&as_of=DATE)."""
    since = text_input(request.GET, "since", max_len=40) or None
    as_of = text_input(request.GET, "as_of", max_len=10) or None
    data = brief(viewer(request), rid[:320], since=since, as_of=as_of)
    return _show(request, data, f"/records/{data['record']['id']}")


@require_GET
@signed_in()
def meeting_brief(request: HttpRequest, iid: str) -> HttpResponse:
    """Prep for a meeting: its attendees and their organisations' briefs."""
    since = text_input(request.GET, "since", max_len=40) or None
    as_of = text_input(request.GET, "as_of", max_len=10) or None
    data = brief(viewer(request), None, since=since, as_of=as_of, for_meeting=iid[:64])
    return _show(request, data, "/")


urlpatterns = [
    path("records/<str:rid>/brief", record_brief, name="record-brief"),
    path("meetings/<str:iid>/brief", meeting_brief, name="meeting-brief"),
]


@require_GET
@signed_in()
def coach_page(request: HttpRequest) -> HttpResponse:
    """One person's coaching (mine by default); a look at someone else's is audited."""
    me = request.user.get_username()
    who = text_input(request.GET, "user", max_len=254) or me
    as_of = parse_as_of(text_input(request.GET, "as_of", max_len=10) or None)
    data = open_coaching(viewer=viewer(request), user=who, as_of=as_of)
    return page(request, "web/coach.html", {"c": data, "mine": who == me, "href": render.href})


@require_GET
@signed_in()
def coach_team(request: HttpRequest, team: str) -> HttpResponse:
    """A team's members alphabetically, as neutral cards (no figures, no order by merit)."""
    cards = team_cards(team[:60])
    return page(request, "web/coach_team.html", {"team": team[:60], "cards": cards})


@signed_in()
def digest_settings(request: HttpRequest) -> HttpResponse:
    """The signed-in user's digest: schedule (an RRULE in their zone) and channels."""
    user = _me(request)
    if request.method == "POST":
        try:
            subscribe(
                user=user,
                rrule=text_input(request.POST, "rrule", max_len=300),
                zone=text_input(request.POST, "zone", max_len=60) or "UTC",
                channels=[c for c in request.POST.getlist("channels") if c][:3],
                active=request.POST.get("active") == "1",
            )
        except KithError as exc:
            notify(request, f"Not saved: {exc.message}")
        else:
            notify(request, "Digest settings saved.")
        return HttpResponseRedirect("/digests/settings")
    sub = subscription_view(user)
    mine = digests_of(user, limit=10)
    return page(request, "web/digest_settings.html", {"s": sub, "digests": mine})


@require_GET
@signed_in()
def digest_page(request: HttpRequest, did: int) -> HttpResponse:
    """One of the signed-in user's digests (the in-app notification links here)."""
    found = [d for d in digests_of(_me(request), limit=200) if d["id"] == did]
    if not found:
        raise NotFound(f"digest: no digest {did}", field="digest")
    return page(request, "web/digest.html", {"d": found[0], "href": render.href})


@require_GET
@signed_in()
def digest_feed(request: HttpRequest) -> HttpResponse:
    """The signed-in user's digests as an Atom feed."""
    base = request.build_absolute_uri("/").rstrip("/")
    body = atom_feed(
        digests_of(_me(request), limit=20), base=base, user=request.user.get_username()
    )
    return HttpResponse(body, content_type="application/atom+xml; charset=utf-8")


urlpatterns += [
    path("coach", coach_page, name="coach"),
    path("coach/team/<str:team>", coach_team, name="coach-team"),
    path("digests/settings", digest_settings, name="digest-settings"),
    path("digests/feed.atom", digest_feed, name="digest-feed"),
    path("digests/<int:did>", digest_page, name="digest"),
]
