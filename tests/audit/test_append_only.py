"""Append-only histories (QC decisions, outlier verdicts) for every client of the database, and the app's
database role that cannot TRUNCATE, ALTER or DROP them."""

import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from tests.factories import make_scan
from ukbstudy.audit.triggers import APPEND_ONLY, present
from ukbstudy.qc.models import QCDecision
from ukbstudy.qc.services import qc_decision_record
from ukbstudy.results.services import outlier_verdict_record

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="TRUNCATE and roles: PostgreSQL")


@pytest.fixture
def histories(rater):
    scan = make_scan()
    qc_decision_record(scan=scan, rater=rater, verdict="pass")
    outlier_verdict_record(subject=scan.subject, scan=scan, reviewer=rater, verdict="both_plausible",
                           method_a="reference", method_b="network")
    return scan


def refused(statement: str, match: str = "append-only") -> None:
    """``statement`` fails, in a session that does not allow TRUNCATE (the test settings' sessions do)."""
    with pytest.raises(DatabaseError, match=match), transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL ukbstudy.allow_truncate = 'off'")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own inserts leave deferred checks
        cursor.execute(statement)


def count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("table", list(APPEND_ONLY))
def test_every_client_is_refused_updates_and_deletes(histories, table):
    assert present(connection, table)
    refused(f"UPDATE {table} SET note = 'rewritten'")
    refused(f"DELETE FROM {table}")
    assert count(table) == 1


@postgres_only
@pytest.mark.parametrize("table", list(APPEND_ONLY))
def test_truncate_is_refused_on_every_append_only_table(histories, table):
    refused(f"TRUNCATE {table}", match="TRUNCATE of .* refused")
    assert count(table) == 1


@postgres_only
def test_a_cascading_truncate_of_the_scans_is_refused_too(histories):
    refused("TRUNCATE imaging_scan CASCADE", match="TRUNCATE of .* refused")
    assert count("imaging_scan") == 1 and QCDecision.all_objects.count() == 1


@pytest.fixture
def app_role():
    """A fresh role (cluster-wide, so a unique name), dropped afterwards."""
    role = f"ukbstudy_app_{uuid.uuid4().hex[:8]}"
    yield role
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone():
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


def as_role(role: str, statement: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        cursor.execute(statement)


@postgres_only
@pytest.mark.parametrize("table", list(APPEND_ONLY))
def test_the_apps_role_cannot_truncate_alter_drop_or_rewrite_the_histories(histories, app_role, table):
    call_command("db_app_role", app_role)
    for statement in (f"TRUNCATE {table}", f"ALTER TABLE {table} DISABLE TRIGGER USER", f"DROP TABLE {table}",
                      f"UPDATE {table} SET note = 'x'", f"DELETE FROM {table}",
                      f"DROP TRIGGER {APPEND_ONLY[table][0]}_no_update ON {table}"):
        with pytest.raises(DatabaseError, match="permission denied|must be owner|must be the owner"):
            as_role(app_role, statement)
    as_role(app_role, f"SELECT count(*) FROM {table}")  # it may read them
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(%s, %s, 'INSERT'), has_table_privilege(%s, 'imaging_scan', "
                       "'UPDATE'), has_table_privilege(%s, 'django_migrations', 'INSERT')",
                       [app_role, table, app_role, app_role])
        assert cursor.fetchone() == (True, True, False)  # it adds to histories, edits other tables
    assert count(table) == 1


@postgres_only
def test_the_role_command_refuses_a_superuser_and_is_repeatable(app_role):
    call_command("db_app_role", app_role)
    call_command("db_app_role", app_role)  # after the next migrate: same grants again
    with pytest.raises(CommandError, match="superuser"):
        call_command("db_app_role", connection.settings_dict["USER"] or "postgres")
    with connection.cursor() as cursor:  # a member of the tables' owner inherits TRUNCATE and ALTER
        cursor.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'qc_qcdecision'")
        owner = cursor.fetchone()[0]
        cursor.execute(f'CREATE ROLE "{app_role}_member" IN ROLE "{owner}"')
    try:
        with pytest.raises(CommandError, match="member of their owner"):
            call_command("db_app_role", f"{app_role}_member")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP ROLE "{app_role}_member"')


def test_the_role_command_says_sqlite_has_no_roles():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("db_app_role", "ukbstudy_app")
