"""URLs of the Kith server: the JSON API under /api/v1 and the web app (static files come
from WhiteNoise)."""

from __future__ import annotations

from django.urls import include, path

from kith.server.api import api

urlpatterns = [path("api/v1/", api.urls), path("", include("kith.web.urls"))]

handler400 = "kith.web.views.errors.bad_request"
handler403 = "kith.web.views.errors.forbidden"
handler404 = "kith.web.views.errors.not_found"
handler500 = "kith.web.views.errors.server_error"
