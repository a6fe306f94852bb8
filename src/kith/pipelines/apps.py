from importlib import import_module

from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    name = "kith.pipelines"
    label = "pipelines"
    verbose_name = "Kith pipelines and deals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        metrics = import_module("kith.pipelines.metrics")  # deals.won, deals.open, win_rate
        value = import_module("kith.intelligence.value")
        value.register("won revenue", metrics.won_revenue)  # the value in kith best
