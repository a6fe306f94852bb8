"""URLs of the Kith server: the JSON API under /api/v1 and the web app (static files come
from WhiteNoise)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path

from kith.server.api import api
from kith.server.errors import body


def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Unknown paths under /api answer in the API's error shape, not with a web page."""
    return JsonResponse(body("not_found", f"no API endpoint at {request.path}"), status=404)


urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api(?:/(?P<rest>.*))?$", api_not_found),
    path("", include("kith.web.urls")),
]

handler400 = "kith.web.views.errors.bad_request"
handler403 = "kith.web.views.errors.forbidden"
handler404 = "kith.web.views.errors.not_found"
handler500 = "kith.web.views.errors.server_error"
