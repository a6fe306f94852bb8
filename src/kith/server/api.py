"""The JSON API under /api/v1: one NinjaAPI mounting each app's router."""

from __future__ import annotations

import importlib

from ninja import NinjaAPI

from kith.server import errors
from kith.server.auth import AUTH, DatabaseThrottle

# Each app's api.py has ``router``, mounted at the root of /api/v1.
ROUTERS = [
    "kith.accounts.api",
    "kith.records.api",
    "kith.relationships.api",
    "kith.interactions.api",
    "kith.webhooks.api",
    "kith.imports.api",
    "kith.dedupe.api",
    "kith.intelligence.api",
    "kith.network.api",
    "kith.lists.api",
    "kith.tasks.api",
    "kith.rules.api",
    "kith.notifications.api",
    "kith.metrics.api",
    "kith.plans.api",
    "kith.capture.api",
    "kith.surveys.api",
    "kith.pipelines.api",
    "kith.briefs.api",
]

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


_mount()
