from importlib import import_module

from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "kith.plans"
    label = "plans"
    verbose_name = "Kith relationship plans"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import_module("kith.plans.metrics")  # registers roles.filled and roles.warm
