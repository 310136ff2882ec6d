from django.contrib import admin
from django.urls import path

from admin_site import views

urlpatterns = [
    path("admin/health/live", views.live, name="health-live"),
    path("admin/health/ready", views.ready, name="health-ready"),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Fast Django administration"
admin.site.site_title = "Fast Django admin"
admin.site.index_title = "Blog and accounts"
