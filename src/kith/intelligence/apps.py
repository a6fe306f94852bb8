from django.apps import AppConfig


class IntelligenceConfig(AppConfig):
    name = "kith.intelligence"
    label = "intelligence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kith.core.events import subscribe
        from kith.intelligence import services

        subscribe("interaction.logged", services.on_interaction_logged)
        subscribe("relationship.started", services.on_relationship_changed)
        subscribe("relationship.ended", services.on_relationship_changed)
        subscribe("bulk.loaded", services.on_bulk_loaded)
        for event in ("record.updated", "record.deleted", "record.restored"):
            subscribe(event, services.on_record_changed)
