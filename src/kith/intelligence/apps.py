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
        # the kept scores, after the pair table they read (handlers run in this order)
        kept = import_module("kith.intelligence.kept_services")
        subscribe("interaction.logged", kept.on_interaction_logged)
        subscribe("interaction.changed", kept.on_interaction_changed)
        subscribe("relationship.started", kept.on_relationship_changed)
        subscribe("relationship.ended", kept.on_relationship_changed)
        subscribe("records.imported", kept.on_records_imported)
        subscribe("bulk.loaded", kept.on_bulk_loaded)
        for event in ("record.created", "record.updated", "record.deleted", "record.restored"):
            subscribe(event, kept.on_record_changed)
