from importlib import import_module

from django.apps import AppConfig

from kith.core.events import subscribe


class IntelligenceConfig(AppConfig):
    name = "kith.intelligence"
    label = "intelligence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        services = import_module("kith.intelligence.services")  # after the app registry is ready

        subscribe("interaction.logged", services.on_interaction_logged)
        subscribe("interaction.changed", services.on_interaction_changed)
        subscribe("relationship.started", services.on_relationship_changed)
        subscribe("relationship.ended", services.on_relationship_changed)
        subscribe("bulk.loaded", services.on_bulk_loaded)
        for event in ("record.updated", "record.deleted", "record.restored"):
            subscribe(event, services.on_record_changed)
