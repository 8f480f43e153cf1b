from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _reinstall_triggers(sender, using, **kwargs) -> None:
    """SQLite loses a table's triggers when a migration rebuilds it: put them back after every migrate
    (and install them on tables that a migrate has just created)."""
    from .triggers import install_all

    install_all(connections[using])


class AuditConfig(AppConfig):
    name = "ukbstudy.audit"
    label = "audit"
    verbose_name = "Audit trail protection"

    def ready(self) -> None:
        post_migrate.connect(_reinstall_triggers, sender=self)
