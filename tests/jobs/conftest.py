"""The job tests' worker fixtures live in tests/conftest.py (shared by every test package); the names stay
importable from here."""

from tests.conftest import job_worker, private_queue  # noqa: F401
from tests.workers import wait_for  # noqa: F401
