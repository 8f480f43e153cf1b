"""The app's own PostgreSQL role: it owns no table and holds only the privileges the app needs.

Migrations run as the tables' owner; the web app and the workers connect as this role. It may read and
write ordinary tables, only read and add to the append-only ones (``triggers.APPEND_ONLY``), only read
``django_migrations``, and it can never TRUNCATE, ALTER or DROP a table (only an owner can), so not even a
bug in the app can rewrite history. Re-run after every migrate: new tables need their grants.
"""

from __future__ import annotations

from psycopg import sql

from .triggers import APPEND_ONLY

READ_ONLY = ("django_migrations",)


class RoleError(RuntimeError):
    pass


def app_role_sync(connection, *, role: str, password: str | None = None) -> list[str]:
    """Create ``role`` if missing (LOGIN, no superuser, no CREATEDB/CREATEROLE) and set its privileges on
    every table of the current schema; returns the statements run. Refuses a role that could bypass them."""
    if connection.vendor != "postgresql":
        raise RoleError("a database role is a PostgreSQL feature; SQLite has none")
    with connection.cursor() as cursor:
        _create_or_check(cursor, role, password)
        statements = _grants(cursor, role)
        for statement in statements:
            cursor.execute(statement)
    return [statement.as_string(connection.connection) for statement in statements]


def _create_or_check(cursor, role: str, password: str | None) -> None:
    cursor.execute("SELECT rolsuper OR rolbypassrls OR rolcreaterole FROM pg_roles WHERE rolname = %s", [role])
    found = cursor.fetchone()
    if found is None:
        cursor.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS").format(
            sql.Identifier(role)))
    elif found[0]:
        raise RoleError(f"role {role!r} is a superuser or may bypass privileges: use a plain role")
    if password:
        cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
    # Owning a table, or being a member of a role that owns one (or of pg_write_all_data), gives TRUNCATE,
    # ALTER and DISABLE TRIGGER through inheritance: refuse both.
    cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                   "AND pg_has_role(%s, tableowner, 'USAGE')", [role])
    if cursor.fetchone()[0]:
        raise RoleError(f"role {role!r} owns tables or is a member of their owner: the app's role must own none "
                        "(run migrations as the owner)")
    cursor.execute("SELECT to_regrole('pg_write_all_data') IS NOT NULL "
                   "AND pg_has_role(%s, 'pg_write_all_data', 'USAGE')", [role])
    if cursor.fetchone()[0]:
        raise RoleError(f"role {role!r} is a member of pg_write_all_data: use a plain role")


def _grants(cursor, role: str) -> list[sql.Composed]:
    cursor.execute("SELECT current_database(), current_schema()")
    database, schema = cursor.fetchone()
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    tables = {name for (name,) in cursor.fetchall()}
    who, where = sql.Identifier(role), sql.Identifier(schema)
    statements = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), who),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(where, who),
        sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(where, who),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(where, who),
        sql.SQL("REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {} FROM {}").format(where, who),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(where, who),
    ]
    for table in sorted(tables & set(APPEND_ONLY)):
        statements.append(sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(table), who))
    for table in sorted(tables & set(READ_ONLY)):
        statements.append(sql.SQL("REVOKE INSERT, UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(table), who))
    return statements
