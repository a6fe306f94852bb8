"""URLs of the Kith server: the JSON API under /api/v1 (static files come from WhiteNoise)."""

from __future__ import annotations

from django.urls import path

from kith.server.api import api

urlpatterns = [path("api/v1/", api.urls)]
