from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "kith.network"
    label = "network"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kith.core.events import subscribe
        from kith.network import graph

        for event in (
            "interaction.logged",
            "relationship.started",
            "relationship.ended",
            "record.deleted",
            "record.restored",
            "bulk.loaded",
        ):
            subscribe(event, graph.invalidate)
