from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "domain.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from domain.accounts import signals

        signals.connect()
