"""The Celery application. Settings come from Django settings under the ``CELERY_`` prefix."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ukbstudy.settings.local")

app = Celery("ukbstudy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def task_named(name: str):
    """The registered task ``name``, for services that queue work without importing a ``tasks`` module
    (``apply_async`` on it honours eager mode, unlike ``send_task``). Outside a worker the apps' ``tasks``
    modules are imported (autodiscovered) on the first lookup."""
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]
