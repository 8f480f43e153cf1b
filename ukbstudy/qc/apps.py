from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _reinstall_triggers(sender, using, **kwargs) -> None:
    """SQLite loses a table's triggers when a migration rebuilds it: put them back after every migrate."""
    from django.db.migrations.recorder import MigrationRecorder

    from .triggers import install_append_only_triggers

    connection = connections[using]
    applied = MigrationRecorder(connection).applied_migrations()
    if ("qc", "0002_append_only_trigger") in applied:
        install_append_only_triggers(connection)


class QcConfig(AppConfig):
    name = "ukbstudy.qc"
    label = "qc"
    verbose_name = "Visual quality control"

    def ready(self) -> None:
        post_migrate.connect(_reinstall_triggers, sender=self)
