"""Database triggers that make the study's histories append-only for every client of the database.

The append-only models refuse updates and deletes, but a shell, a script or a bulk queryset update would
not go through them; these triggers refuse UPDATE, DELETE and (PostgreSQL) TRUNCATE in the database
itself, on every table in ``APPEND_ONLY``. TRUNCATE is refused by a statement trigger, which also fires
for a table reached by ``TRUNCATE ... CASCADE``. A maintenance session of the tables' owner may set
``ukbstudy.allow_truncate = on`` to empty them (the test suite's database does, to reset between tests);
the app's own database role (``manage.py db_app_role``) holds no TRUNCATE privilege on them at all.

SQLite drops a table's triggers when a migration rebuilds the table, so they are (re)created after every
``migrate`` (``apps.AuditConfig``).
"""

from __future__ import annotations

# table -> (trigger name prefix, what the rows are)
APPEND_ONLY = {
    "qc_qcdecision": ("qc_decision", "QC decisions"),
    "results_outlierverdict": ("outlier_verdict", "outlier verdicts"),
}
ROW_EVENTS = ("update", "delete")
TRUNCATE_GUC = "ukbstudy.allow_truncate"


def _row_function(prefix: str, what: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION {prefix}_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '{what} are append-only' USING ERRCODE = 'integrity_constraint_violation';
        END;
        $$ LANGUAGE plpgsql"""


def _truncate_function(prefix: str, what: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION {prefix}_no_truncate() RETURNS trigger AS $$
        BEGIN
            IF coalesce(current_setting('{TRUNCATE_GUC}', true), '') = 'on' THEN
                RETURN NULL;
            END IF;
            RAISE EXCEPTION '{what} are append-only: TRUNCATE of % refused', TG_TABLE_NAME
                USING ERRCODE = 'integrity_constraint_violation';
        END;
        $$ LANGUAGE plpgsql"""


def _create(vendor: str, table: str) -> list[str]:
    prefix, what = APPEND_ONLY[table]
    if vendor == "sqlite":
        return [f"CREATE TRIGGER IF NOT EXISTS {prefix}_no_{event} BEFORE {event.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{what} are append-only'); END" for event in ROW_EVENTS]
    statements = [_row_function(prefix, what), _truncate_function(prefix, what)]
    statements += [f"CREATE OR REPLACE TRIGGER {prefix}_no_{event} BEFORE {event.upper()} ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {prefix}_append_only()" for event in ROW_EVENTS]
    statements.append(f"CREATE OR REPLACE TRIGGER {prefix}_no_truncate BEFORE TRUNCATE ON {table} "
                      f"FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_no_truncate()")
    return statements


def _drop(vendor: str, table: str) -> list[str]:
    prefix, _ = APPEND_ONLY[table]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {prefix}_no_{event}" for event in ROW_EVENTS]
    return [*(f"DROP TRIGGER IF EXISTS {prefix}_no_{event} ON {table}" for event in (*ROW_EVENTS, "truncate")),
            f"DROP FUNCTION IF EXISTS {prefix}_append_only()", f"DROP FUNCTION IF EXISTS {prefix}_no_truncate()"]


def trigger_names(vendor: str, table: str) -> list[str]:
    prefix, _ = APPEND_ONLY[table]
    events = ROW_EVENTS if vendor == "sqlite" else (*ROW_EVENTS, "truncate")
    return [f"{prefix}_no_{event}" for event in events]


def _check_vendor(vendor: str) -> None:
    if vendor not in ("postgresql", "sqlite"):
        raise RuntimeError(f"no append-only trigger for database vendor {vendor!r}")


def install(connection, table: str) -> None:
    _check_vendor(connection.vendor)
    with connection.cursor() as cursor:
        for statement in _create(connection.vendor, table):
            cursor.execute(statement)


def remove(connection, table: str) -> None:
    _check_vendor(connection.vendor)
    with connection.cursor() as cursor:
        for statement in _drop(connection.vendor, table):
            cursor.execute(statement)


def present(connection, table: str) -> bool:
    names = trigger_names(connection.vendor, table)
    marks = ", ".join(["%s"] * len(names))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT count(*) FROM pg_trigger WHERE tgname IN ({marks}) AND NOT tgisinternal", names)
        else:
            cursor.execute(f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})", names)
        return cursor.fetchone()[0] == len(names)


def install_all(connection) -> None:
    """Triggers on every append-only table that exists (after a migrate)."""
    existing = set(connection.introspection.table_names())
    for table in APPEND_ONLY:
        if table in existing:
            install(connection, table)


def remove_all(connection) -> None:
    existing = set(connection.introspection.table_names())
    for table in APPEND_ONLY:
        if table in existing:
            remove(connection, table)
