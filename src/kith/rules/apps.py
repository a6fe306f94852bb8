from importlib import import_module

from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "kith.rules"
    label = "rules"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import_module("kith.rules.matching").connect()  # after the app registry is ready
        import_module("kith.rules.jobs").connect()
