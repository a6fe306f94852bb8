from importlib import import_module

from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    name = "kith.pipelines"
    label = "pipelines"
    verbose_name = "Kith pipelines and deals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import_module("kith.pipelines.metrics")  # registers deals.won, deals.open, deals.win_rate
