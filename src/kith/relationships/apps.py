from django.apps import AppConfig


class RelationshipsConfig(AppConfig):
    name = "kith.relationships"
    label = "relationships"
    default_auto_field = "django.db.models.BigAutoField"
