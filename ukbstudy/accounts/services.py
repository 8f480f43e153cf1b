"""Writes for accounts: roles as groups with their permissions, and users with a role."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import Q

from .roles import ROLES


def roles_sync() -> None:
    """Create or update the role groups so each has exactly its role's permissions (those that exist
    yet: during a migrate this runs after each app, and the last run sees every permission)."""
    for role, names in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        if names == ["*"]:
            group.permissions.set(Permission.objects.all())
            continue
        wanted = Q()
        for name in names:
            app_label, codename = name.split(".")
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(wanted))


@transaction.atomic
def user_create(*, username: str, password: str, role: str, email: str = ""):
    """A user with one role. Raises ValueError for an unknown role and django.core.exceptions.ValidationError
    (every reason in its messages) for a password AUTH_PASSWORD_VALIDATORS refuse, e.g. too short, too
    common or too like the username."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    model = get_user_model()
    # The validators compare the password with the user's attributes, so they see the unsaved user.
    validate_password(password, user=model(username=username, email=email))
    roles_sync()
    user = model.objects.create_user(username=username, password=password, email=email, is_staff=role == "admin")
    user.groups.set([Group.objects.get(name=role)])
    return user
