from importlib import import_module

from django.apps import AppConfig

from kith.core.events import subscribe


class TasksConfig(AppConfig):
    name = "kith.tasks"
    label = "tasks"
    verbose_name = "Kith tasks and keep-in-touch cadences"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        services = import_module("kith.tasks.services")  # after the app registry is ready

        subscribe("interaction.logged", services.on_interaction_logged)
