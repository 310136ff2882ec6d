from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "domain.blog"
    label = "blog"
    verbose_name = "Blog"

    def ready(self) -> None:
        from domain.blog import signals

        signals.connect()
