"""The QC history's append-only triggers (``ukbstudy.audit.triggers`` guards every append-only table);
these names serve migration 0002 and the tests."""

from __future__ import annotations

from ukbstudy.audit import triggers

TABLE = "qc_qcdecision"


def install_append_only_triggers(connection) -> None:
    triggers.install(connection, TABLE)


def remove_append_only_triggers(connection) -> None:
    triggers.remove(connection, TABLE)


def append_only_triggers_present(connection) -> bool:
    return triggers.present(connection, TABLE)
