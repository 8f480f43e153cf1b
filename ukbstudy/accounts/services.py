"""Writes for accounts: roles as groups with their permissions, and users with a role."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
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
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    roles_sync()
    user = get_user_model().objects.create_user(username=username, password=password, email=email,
                                                is_staff=role == "admin")
    user.groups.set([Group.objects.get(name=role)])
    return user
