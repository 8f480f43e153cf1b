"""Database triggers that make the QC history append-only for every client of the database.

The model refuses updates and deletes, but a shell, a script or a bulk queryset update would not go
through it; these triggers refuse them in the database itself. SQLite drops a table's triggers when a
migration rebuilds the table, so they are (re)created after every ``migrate`` (``apps.QcConfig``), not
only by migration 0002. TRUNCATE, which only the table's owner may run (and which test databases use to
reset), is left to database privileges.
"""

from __future__ import annotations

TABLE = "qc_qcdecision"
MESSAGE = "QC decisions are append-only"

POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION qc_decision_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
        END;
        $$ LANGUAGE plpgsql""",
    f"CREATE OR REPLACE TRIGGER qc_decision_no_update BEFORE UPDATE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION qc_decision_append_only()",
    f"CREATE OR REPLACE TRIGGER qc_decision_no_delete BEFORE DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION qc_decision_append_only()",
]
SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS qc_decision_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS qc_decision_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
DROP = {
    "postgresql": [f"DROP TRIGGER IF EXISTS qc_decision_no_update ON {TABLE}",
                   f"DROP TRIGGER IF EXISTS qc_decision_no_delete ON {TABLE}",
                   "DROP FUNCTION IF EXISTS qc_decision_append_only()"],
    "sqlite": ["DROP TRIGGER IF EXISTS qc_decision_no_update", "DROP TRIGGER IF EXISTS qc_decision_no_delete"],
}
CREATE = {"postgresql": POSTGRES, "sqlite": SQLITE}


def _statements(table: dict[str, list[str]], vendor: str) -> list[str]:
    if vendor not in table:
        raise RuntimeError(f"no append-only trigger for database vendor {vendor!r}")
    return table[vendor]


def install_append_only_triggers(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(CREATE, connection.vendor):
            cursor.execute(statement)


def remove_append_only_triggers(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(DROP, connection.vendor):
            cursor.execute(statement)


def append_only_triggers_present(connection) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname IN "
                           "('qc_decision_no_update', 'qc_decision_no_delete') AND NOT tgisinternal")
        else:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
                           "('qc_decision_no_update', 'qc_decision_no_delete')")
        return cursor.fetchone()[0] == 2
