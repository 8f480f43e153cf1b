"""Writes for accounts: roles as groups with their permissions, and users with a role."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .roles import ROLES


def roles_sync() -> None:
    """Create or update the role groups so each has exactly its role's permissions."""
    for role, names in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        if names == ["*"]:
            permissions = Permission.objects.all()
        else:
            permissions = [Permission.objects.get(content_type__app_label=name.split(".")[0],
                                                  codename=name.split(".")[1]) for name in names]
        group.permissions.set(permissions)


@transaction.atomic
def user_create(*, username: str, password: str, role: str, email: str = ""):
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    roles_sync()
    user = get_user_model().objects.create_user(username=username, password=password, email=email,
                                                is_staff=role == "admin")
    user.groups.set([Group.objects.get(name=role)])
    return user
