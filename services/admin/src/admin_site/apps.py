from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin app, with this service's site as ``admin.site``."""

    default_site = "admin_site.sites.AdminSite"


class AdminSiteConfig(AppConfig):
    name = "admin_site"
    label = "admin_site"
    verbose_name = "Fast Django admin"
