from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "domain.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from domain import lookups

        lookups.register()
