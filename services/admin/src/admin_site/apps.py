from django.apps import AppConfig


class AdminSiteConfig(AppConfig):
    name = "admin_site"
    label = "admin_site"
    verbose_name = "Fast Django admin"
