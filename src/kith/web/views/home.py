"""Pages: the home page (what needs attention and why) and global search."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from kith.core.errors import KithError
from kith.home.selectors import home_digest, quick_search
from kith.web.views.base import is_htmx, page, signed_in, viewer

QUICK_RESULTS = 8
PAGE_RESULTS = 50


@require_GET
@signed_in()
def home(request: HttpRequest) -> HttpResponse:
    digest = home_digest(viewer(request), request.user.get_username())
    return page(request, "web/home.html", digest)


@require_GET
@signed_in()
def search(request: HttpRequest) -> HttpResponse:
    """The header's quick results (htmx: a few links) or the full results page."""
    text = request.GET.get("q", "")
    if is_htmx(request):
        if not text.strip():
            return HttpResponse("")  # empty: the results box hides itself
        try:
            found = quick_search(viewer(request), text, limit=QUICK_RESULTS)
        except KithError as exc:  # htmx swaps only 2xx answers: say it in the box
            return render(request, "web/_error.html", {"message": exc.message}, using="jinja2")
        ctx = {"q": text.strip(), "results": found, "more": len(found) >= QUICK_RESULTS}
        return render(request, "web/_search_results.html", ctx, using="jinja2")
    found = quick_search(viewer(request), text, limit=PAGE_RESULTS + 1) if text.strip() else []
    ctx = {
        "q": text.strip(),
        "results": found[:PAGE_RESULTS],
        "more": len(found) > PAGE_RESULTS,
    }
    return page(request, "web/search.html", ctx)


urlpatterns = [
    path("", home, name="home"),
    path("search", search, name="search"),
]
