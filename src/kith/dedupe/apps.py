from django.apps import AppConfig


class DedupeConfig(AppConfig):
    name = "kith.dedupe"
    label = "dedupe"
    default_auto_field = "django.db.models.BigAutoField"
