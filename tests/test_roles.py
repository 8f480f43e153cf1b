"""Roles exist after migrate with exactly the permissions the code grants them."""

import pytest
from django.contrib.auth.models import Group, Permission

from ukbstudy.accounts.roles import ROLES, role_of
from ukbstudy.accounts.services import user_create

pytestmark = pytest.mark.django_db


def test_every_role_group_has_its_permissions():
    for role, names in ROLES.items():
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=role).permissions.all()}
        assert granted == ({f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.all()}
                           if names == ["*"] else set(names)), role


def test_a_user_gets_the_role_asked_for():
    rater = user_create(username="r", password="pw-long-enough-1", role="rater")
    assert role_of(rater) == "rater" and rater.has_perm("qc.add_qcdecision") and not rater.has_perm("jobs.add_job")
    with pytest.raises(ValueError):
        user_create(username="x", password="pw-long-enough-1", role="boss")
