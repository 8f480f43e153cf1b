"""python manage.py db_app_role ROLE [--password-env VAR] : the app's PostgreSQL role, run as the owner."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from ukbstudy.audit.roles import RoleError, app_role_sync


class Command(BaseCommand):
    help = ("Create or update the PostgreSQL role the web app and workers connect as: it owns no table, may "
            "only read and add to the append-only histories and can never TRUNCATE, ALTER or DROP. Run as the "
            "tables' owner after every migrate.")

    def add_arguments(self, parser):
        parser.add_argument("role")
        parser.add_argument("--password-env", metavar="VAR",
                            help="environment variable holding the role's password (set or changed)")

    def handle(self, *args, role, password_env, **options):
        password = None
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"{password_env} is not set")
        try:
            with transaction.atomic():
                statements = app_role_sync(connection, role=role, password=password)
        except RoleError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"role {role}: {len(statements)} grant statements applied")
