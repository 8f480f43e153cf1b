"""Test settings: fast password hashing; database and broker still come from the environment."""

from .local import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Client.login() passes no request, which the lockout backend refuses; tests of the lockout switch it on
# (``settings.AXES_ENABLED = True``, tests/accounts/test_lockout.py).
AXES_ENABLED = False

# The test database is emptied between transactional tests by TRUNCATE, which the append-only tables
# refuse unless the session allows it (ukbstudy.audit.triggers); only the test suite's sessions do.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c ukbstudy.allow_truncate=on"  # noqa: F405
