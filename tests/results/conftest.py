"""Every results test starts with an empty cache: SQLite reuses the ids a rolled-back test used, so two tests
could build data with equal fingerprints (the cache module's own tests check that changes are seen)."""

import pytest
from django.core.cache import cache
from django.test import Client

from ukbstudy.accounts.services import user_create


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def viewer():
    client = Client()
    client.force_login(user_create(username="vic", password="pw-long-enough-1", role="viewer"))
    return client
