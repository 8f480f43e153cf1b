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

# SQLite: the test database is a file (on tmpfs where there is one), not Django's in-memory default, so the
# live server's threads see the same WAL, busy timeout and IMMEDIATE transactions as the app: the QC page
# fetching the next scan while the rater's decision is posted waits for the lock instead of failing at once
# ("database table is locked" in a shared in-memory cache). One file per test process.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import os as _os
    import tempfile as _tempfile

    def _roomy(folder: str) -> bool:  # a container's /dev/shm is often 64 MB
        try:
            found = _os.statvfs(folder)
        except OSError:
            return False
        return _os.access(folder, _os.W_OK) and found.f_bavail * found.f_frsize > 1 << 30

    _folder = "/dev/shm" if _roomy("/dev/shm") else _tempfile.gettempdir()
    DATABASES["default"].setdefault("TEST", {})["NAME"] = _os.path.join(  # noqa: F405
        _folder, f"ukbstudy-test-{_os.getpid()}.sqlite3")
