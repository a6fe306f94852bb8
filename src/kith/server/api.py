"""The JSON API: one NinjaAPI mounting each app's router."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="Kith", version="1", urls_namespace="api-v1")
