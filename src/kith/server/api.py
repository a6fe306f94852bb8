"""The JSON API under /api/v1: one NinjaAPI mounting each app's router."""

from __future__ import annotations

import importlib
import importlib.util

from ninja import NinjaAPI

from kith.server import errors
from kith.server.auth import AUTH, DatabaseThrottle

# Each app's api.py has ``router``; optional ones are mounted when the app is there.
ROUTERS = [
    "kith.accounts.api",
    "kith.records.api",
    "kith.relationships.api",
    "kith.interactions.api",
    "kith.webhooks.api",
]
# Routers over apps other teams own; mounted when the app is installed.
OPTIONAL_ROUTERS = {
    "kith.imports": "kith.server.routers.imports",
    "kith.dedupe": "kith.server.routers.dedupe",
    "kith.intelligence": "kith.server.routers.intelligence",
    "kith.network": "kith.server.routers.network",
}

api = NinjaAPI(
    title="Kith",
    version="1",
    description="Kith, a relationship-first CRM: records, relationships, interactions.",
    urls_namespace="api-v1",
    auth=AUTH,
    throttle=[DatabaseThrottle()],
    docs_url="/docs",
)
errors.install(api)


def _mount() -> None:
    for name in ROUTERS:
        api.add_router("", importlib.import_module(name).router)
    from django.conf import settings

    for app, name in OPTIONAL_ROUTERS.items():
        if app in settings.INSTALLED_APPS or (
            importlib.util.find_spec(app) is not None
            and importlib.util.find_spec(f"{app}.models") is None
        ):
            api.add_router("", importlib.import_module(name).router)


_mount()
