"""Pages: imports (placeholder until written)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from kith.web.views.base import page, signed_in


@signed_in()
def placeholder(request: HttpRequest, **_: str) -> HttpResponse:
    return page(request, "web/placeholder.html", {"title": request.path})


urlpatterns = [
    path("import", placeholder, name="import"),
]
