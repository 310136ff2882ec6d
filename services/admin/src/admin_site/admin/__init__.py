"""ModelAdmins of every domain model, one module per domain area (found by admin.autodiscover)."""

from admin_site.admin import accounts, blog, core

__all__ = ["accounts", "blog", "core"]
