"""What the management commands that record who ran them share: the user named with ``--user``."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def command_user(username: str | None):
    """The user named ``username`` (None when none was named); CommandError when there is no such user."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no user named {username!r}")
    return user
