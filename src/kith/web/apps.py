from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kith.web"
    label = "web"
    verbose_name = "Kith web app"
    default_auto_field = "django.db.models.BigAutoField"
