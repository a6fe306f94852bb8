"""Page: the signed-in user's mail accounts and calendars with their sync status."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from kith.capture import selectors
from kith.web.views.base import page, signed_in, viewer


@require_GET
@signed_in()
def capture(request: HttpRequest) -> HttpResponse:
    who = viewer(request)
    context = {"accounts": selectors.mail_accounts(who), "calendars": selectors.calendars(who)}
    return page(request, "web/capture.html", context)


urlpatterns = [path("capture", capture, name="capture")]
