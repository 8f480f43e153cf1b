"""WSGI entry point (gunicorn ukbstudy.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ukbstudy.settings.production")
application = get_wsgi_application()
