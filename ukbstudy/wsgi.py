"""WSGI entry point (gunicorn ukbstudy.wsgi; runserver loads it too).

Without a broker, the jobs that pages start run in a background thread of this process (ukbstudy.jobs.background).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ukbstudy.settings.production")
application = get_wsgi_application()

from ukbstudy.jobs.background import enable  # noqa: E402  (after the app registry is ready)

enable()
