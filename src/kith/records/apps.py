from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _ensure_index(using: str = "default", **_: Any) -> None:
    from kith.records.search_index import ensure_search_index  # noqa: PLC0415

    ensure_search_index(connections[using])


class RecordsConfig(AppConfig):
    name = "kith.records"
    label = "records"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # a migration that rebuilds an indexed SQLite table drops the search triggers
        post_migrate.connect(_ensure_index, sender=self, dispatch_uid="records.search_index")
