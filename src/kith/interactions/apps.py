from django.apps import AppConfig


class InteractionsConfig(AppConfig):
    name = "kith.interactions"
    label = "interactions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kith.interactions.search import subject_records  # noqa: PLC0415
        from kith.records.search import register_source  # noqa: PLC0415

        register_source(subject_records)
