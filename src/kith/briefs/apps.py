from django.apps import AppConfig


class BriefsConfig(AppConfig):
    name = "kith.briefs"
    label = "briefs"
    verbose_name = "Kith briefs and digests"
    default_auto_field = "django.db.models.BigAutoField"
