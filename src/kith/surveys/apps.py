from importlib import import_module

from django.apps import AppConfig

from kith.core.events import subscribe


class SurveysConfig(AppConfig):
    name = "kith.surveys"
    label = "surveys"
    verbose_name = "Kith voice of the customer"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        services = import_module("kith.surveys.services")  # after the app registry is ready
        import_module("kith.surveys.metrics")  # registers nps, csat, ces and sentiment.mean
        subscribe("survey.detractor", services.close_the_loop)
        subscribe("interaction.logged", services.score_logged, first=True)
        subscribe("interaction.logged", services.on_interaction_logged)
        notes = import_module("kith.intelligence.notes")
        voice = import_module("kith.surveys.voice")
        notes.register(voice.health_note)  # health names the key people who never answer
