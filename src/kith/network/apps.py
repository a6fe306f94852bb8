from importlib import import_module

from django.apps import AppConfig

from kith.core.events import subscribe


class NetworkConfig(AppConfig):
    name = "kith.network"
    label = "network"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        graph = import_module("kith.network.graph")  # after the app registry is ready

        subscribe("interaction.logged", graph.on_interaction_logged)
        subscribe("relationship.started", graph.on_relationship_changed)
        subscribe("relationship.ended", graph.on_relationship_changed)
        events = ("record.created", "record.deleted", "record.restored", "bulk.loaded")
        for event in (*events, "interaction.changed"):
            subscribe(event, graph.invalidate)
