"""python manage.py add_user USERNAME --role viewer|rater|analyst|admin [--email E]"""

import secrets

from django.core.management.base import BaseCommand, CommandError

from ukbstudy.accounts.roles import ROLE_NAMES
from ukbstudy.accounts.services import user_create


class Command(BaseCommand):
    help = "Create a user with a role and print a generated password."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=ROLE_NAMES, required=True)
        parser.add_argument("--email", default="")

    def handle(self, *args, username, role, email, **options):
        password = secrets.token_urlsafe(12)
        try:
            user_create(username=username, password=password, role=role, email=email)
        except Exception as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{username} ({role}) created; password: {password}")
