from importlib import import_module

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "kith.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        connect = import_module("kith.webhooks.outbox").connect  # after the app registry is ready

        connect()
