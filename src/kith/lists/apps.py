from django.apps import AppConfig


class ListsConfig(AppConfig):
    name = "kith.lists"
    label = "lists"
    verbose_name = "Kith record lists"
    default_auto_field = "django.db.models.BigAutoField"
