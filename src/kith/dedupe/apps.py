from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _build_once(using: str = "default", **_: Any) -> None:
    """A workspace migrated to kept pairs gets them built once (later: kept by events)."""
    from kith.dedupe import kept  # noqa: PLC0415
    from kith.dedupe.models import DupState  # noqa: PLC0415

    if "dedupe_dupstate" not in connections[using].introspection.table_names():
        return
    if not DupState.objects.using(using).filter(rebuilt_at__isnull=False).exists():
        kept.rebuild()


class DedupeConfig(AppConfig):
    name = "kith.dedupe"
    label = "dedupe"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kith.core.events import subscribe  # noqa: PLC0415
        from kith.dedupe import kept  # noqa: PLC0415

        for event in ("record.created", "record.updated", "record.deleted", "record.restored"):
            subscribe(event, kept.on_record)
        subscribe("relationship.started", kept.on_relationship)
        subscribe("relationship.ended", kept.on_relationship)
        subscribe("records.imported", kept.on_imported)
        subscribe("bulk.loaded", kept.on_bulk_loaded)
        post_migrate.connect(_build_once, sender=self, dispatch_uid="dedupe.kept")
