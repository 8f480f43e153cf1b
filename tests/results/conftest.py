"""Every results test starts with an empty cache: SQLite reuses the ids a rolled-back test used, so two tests
could build data with equal fingerprints (the cache module's own tests check that changes are seen)."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()
