"""The Python face of Kith: a workspace whose attributes are each app's services and selectors."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _App:
    """Exposes one app's service (write) and selector (read) functions as attributes."""

    def __init__(self, app: str) -> None:
        self._app = app

    def _modules(self) -> list[ModuleType]:
        return [
            importlib.import_module(f"kith.{self._app}.services"),
            importlib.import_module(f"kith.{self._app}.selectors"),
        ]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        for module in self._modules():
            value = getattr(module, name, None)
            if callable(value) and getattr(value, "__module__", None) == module.__name__:
                return value
        raise AttributeError(f"kith.{self._app} has no service or selector {name!r}")

    def __dir__(self) -> list[str]:
        names: set[str] = set()
        for module in self._modules():
            names.update(n for n in vars(module) if not n.startswith("_"))
        return sorted(names)


class Workspace:
    """An open Kith workspace: ``ws.records``, ``ws.relationships``, ``ws.interactions``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.records = _App("records")
        self.relationships = _App("relationships")
        self.interactions = _App("interactions")
        self.history = _App("core")

    def __repr__(self) -> str:
        return f"<kith.Workspace {self.url}>"

    def bulk_load(self, **tables: Any) -> dict[str, int]:
        """Load many rows at once (see :func:`kith.bulk.services.load`)."""
        from kith.bulk.services import load

        return load(**tables)
