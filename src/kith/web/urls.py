"""Every page of the web app: each views module lists its own ``urlpatterns``."""

from __future__ import annotations

import importlib

MODULES = [
    "auth",
    "home",
    "records",
    "create",
    "graph",
    "lists",
    "imports",
    "dedupe",
    "admin",
    "tasks",
    "rules",
    "notifications",
    "plans",
    "surveys",
    "pipelines",
    "rankings",
    "briefs",
    "capture",
    "dav",
]

urlpatterns = [
    pattern
    for name in MODULES
    for pattern in importlib.import_module(f"kith.web.views.{name}").urlpatterns
]
