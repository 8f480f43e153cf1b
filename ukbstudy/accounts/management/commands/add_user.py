"""python manage.py add_user USERNAME --role viewer|rater|analyst|admin [--email E] [--password-stdin]"""

import secrets
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ukbstudy.accounts.roles import ROLE_NAMES
from ukbstudy.accounts.services import user_create


class Command(BaseCommand):
    help = ("Create a user with a role and print a generated password, or with --password-stdin read one from "
            "standard input (never a command-line argument: those show in process lists and shell history).")
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=ROLE_NAMES, required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--password-stdin", action="store_true",
                            help="Read the password from the first line of standard input.")

    def handle(self, *args, username, role, email, password_stdin, **options):
        stdin = options.get("stdin", sys.stdin)  # call_command(..., stdin=...) in tests
        password = stdin.readline().rstrip("\r\n") if password_stdin else secrets.token_urlsafe(12)
        try:
            user_create(username=username, password=password, role=role, email=email)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from None
        except Exception as exc:
            raise CommandError(str(exc)) from None
        shown = "as given" if password_stdin else password
        self.stdout.write(f"{username} ({role}) created; password: {shown}")
