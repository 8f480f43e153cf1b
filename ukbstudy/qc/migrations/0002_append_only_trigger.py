"""Make the QC history append-only inside the database itself.

The model refuses updates and deletes, but other clients of the database (a shell, a script, a bulk
queryset update) would not go through it; these triggers refuse them for everyone. TRUNCATE, which
only the table's owner may run (and which test databases use to reset), is left to database privileges.
"""

from django.db import migrations

TABLE = "qc_qcdecision"
MESSAGE = "QC decisions are append-only"

POSTGRES_CREATE = f"""
CREATE OR REPLACE FUNCTION qc_decision_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER qc_decision_no_update BEFORE UPDATE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION qc_decision_append_only();
CREATE TRIGGER qc_decision_no_delete BEFORE DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION qc_decision_append_only();
"""
POSTGRES_DROP = f"""
DROP TRIGGER IF EXISTS qc_decision_no_update ON {TABLE};
DROP TRIGGER IF EXISTS qc_decision_no_delete ON {TABLE};
DROP FUNCTION IF EXISTS qc_decision_append_only();
"""
SQLITE_CREATE = [
    f"CREATE TRIGGER qc_decision_no_update BEFORE UPDATE ON {TABLE} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    f"CREATE TRIGGER qc_decision_no_delete BEFORE DELETE ON {TABLE} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS qc_decision_no_update;", "DROP TRIGGER IF EXISTS qc_decision_no_delete;"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        connection = schema_editor.connection
        statements = statements_by_vendor.get(connection.vendor)
        if statements is None:
            raise RuntimeError(f"no append-only trigger for database vendor {connection.vendor!r}")
        for statement in [statements] if isinstance(statements, str) else statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("qc", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_CREATE, "sqlite": SQLITE_CREATE}),
            _run({"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}),
        ),
    ]
