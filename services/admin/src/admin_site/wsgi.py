"""WSGI entry point of the admin service.

gunicorn -c python:admin_site.gunicorn admin_site.wsgi
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "admin_site.settings")

application = get_wsgi_application()
