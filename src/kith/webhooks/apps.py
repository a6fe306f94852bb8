from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "kith.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kith.webhooks.outbox import connect

        connect()
