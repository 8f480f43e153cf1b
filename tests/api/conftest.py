"""API fixtures: one user per role (and one without a role), clients logged in as them, and a small cohort."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import make_scan, make_subject
from ukbstudy.accounts.services import user_create

ROLES = ("viewer", "rater", "analyst", "admin")
PASSWORD = "a-long-test-password-7"


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """The token endpoint's throttle counts requests per address in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def users(db, django_user_model) -> dict:
    """``{role: user}`` for every role, plus ``"none"``: a user who has an account but no role."""
    made = {role: user_create(username=f"{role}-user", password=PASSWORD, role=role) for role in ROLES}
    made["none"] = django_user_model.objects.create_user("no-role-user", password=PASSWORD)
    return made


@pytest.fixture
def client_as(users):
    """``client_as(role)``: an API client with a session of that role's user (``None``: anonymous)."""

    def make(role: str | None) -> APIClient:
        client = APIClient()
        if role is not None:
            client.force_login(users[role])
        return client

    return make


@pytest.fixture
def cohort(db) -> dict:
    """Two active participants with a scan each and one withdrawn participant with a scan."""
    active = [make_subject(eid=1_000_001, sex="F", centre=11025), make_subject(eid=1_000_002, sex="M", centre=11027)]
    withdrawn = make_subject(eid=1_000_009, sex="F", centre=11025, withdrawn=True)
    return {"subjects": active, "scans": [make_scan(subject) for subject in active],
            "withdrawn": withdrawn, "withdrawn_scan": make_scan(withdrawn)}
