from django.contrib import admin
from django.urls import path

from admin_site import views

urlpatterns = [
    path("admin/health/live", views.live, name="health-live"),
    path("admin/health/ready", views.ready, name="health-ready"),
    path("admin/", admin.site.urls),
]
