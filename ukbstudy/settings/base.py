"""Settings shared by every environment.

Services are chosen by environment variables so that the same code runs on a laptop with nothing
installed and on a server:

- ``DATABASE_URL``: e.g. ``postgres://postgres@127.0.0.1:5432/ukbstudy``; default SQLite in ``var/``.
- ``CELERY_BROKER_URL``: e.g. ``redis://127.0.0.1:6379/0`` or ``amqp://guest:guest@127.0.0.1:5672//``;
  without it tasks run in-process (eager), so no broker or worker is needed.
- ``UKBSTUDY_DATA_DIR``: where the SQLite database and media (archives, derived images) live.
- ``LIVERFAT_DEVICE`` (``auto``, ``cpu``, ``cuda``) and ``TORCH_NUM_THREADS`` for the networks.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("UKBSTUDY_DATA_DIR", BASE_DIR / "var"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS: list[str] = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from static/ (/api/docs/)
    "axes",  # login lockout: failed attempts per user and per address
    "csp",  # Content-Security-Policy header (and its settings checks)
    "ukbstudy.subjects",
    "ukbstudy.imaging",
    "ukbstudy.showcase",
    "ukbstudy.qc",
    "ukbstudy.measurements",
    "ukbstudy.jobs",
    "ukbstudy.liverfat",
    "ukbstudy.marrow",
    "ukbstudy.atlas",
    "ukbstudy.results",
    "ukbstudy.audit",  # after the apps whose tables it makes append-only
    "ukbstudy.api",
    "ukbstudy.demo",
    "ukbstudy.accounts",  # last: its post_migrate handler grants the other apps' permissions
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",  # every page needs a login unless marked
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout flagged during the view into the lockout page
]

ROOT_URLCONF = "ukbstudy.urls"
WSGI_APPLICATION = "ukbstudy.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ukbstudy.accounts.context_processors.role",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Long imports and a worker share the file: wait for locks instead of failing at once.
    # The server's background job thread writes while pages are served: WAL lets readers go on during a write,
    # IMMEDIATE takes the write lock at the start of a transaction instead of failing on a lock upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login lockout (django-axes): after AXES_FAILURE_LIMIT failed logins for one username, or from one address, that
# username or address is refused for AXES_COOLOFF_MINUTES (every attempt meanwhile restarts the wait); a success
# clears the count. Covers the login page, the admin login and /api/auth/token/. ``manage.py axes_reset`` (or
# ``axes_reset_username NAME``) lifts a lockout at once. The axes backend comes first: it refuses before any
# password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_ENABLED = os.environ.get("AXES_ENABLED", "1") == "1"
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]  # each on its own: per address OR per username
# A success clears the failures of that username only (ukbstudy.accounts.lockout.clear_own_failures): axes'
# own reset also clears every failure from the address, so a user could wipe the count of guesses at another
# account by logging in as themselves.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "ukbstudy.accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "ukbstudy.accounts.lockout.client_ip"
# Reverse proxies in front of the app that append the client to X-Forwarded-For (0: none, the client is
# REMOTE_ADDR). Lockout and API throttling both count per address, so both read this.
NUM_PROXIES = int(os.environ.get("DJANGO_NUM_PROXIES", 0))

# CACHE_URL (e.g. redis://127.0.0.1:6379/1) names a cache all web processes share; sessions are then read
# from it and written through to the database (one query less per page). Without one, sessions stay in
# the database, so several web workers never disagree about who is logged in.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "qc:queue"
LOGOUT_REDIRECT_URL = "login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",  # enforces CSRF for browser sessions
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # ?page_size= up to ukbstudy.api.pagination.MAX_PAGE_SIZE (1000); the measurements page by cursor.
    "DEFAULT_PAGINATION_CLASS": "ukbstudy.api.pagination.StudyPagination",
    "PAGE_SIZE": 100,
    # Scoped throttles (per client address, counted in the default cache: give several web workers a shared
    # CACHE_URL, else each counts alone). "token": POST /api/auth/token/, password guessing.
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("API_TOKEN_THROTTLE_RATE", "10/minute")},
    "NUM_PROXIES": NUM_PROXIES or None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ukbstudy API",
    "DESCRIPTION": "Subjects, scans, visual QC decisions and measurements of a UK Biobank imaging study.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # verdict and previous_verdict share one choice set: one schema enum
    "ENUM_NAME_OVERRIDES": {"VerdictEnum": "ukbstudy.qc.models.Verdict"},
    # Keep spectacular's own hook (enums), then document the errors (400/403/404) every operation can give.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "ukbstudy.api.schema.add_error_responses"],
    # /api/docs/: Swagger UI from this site's static files (the CSP allows no CDN), and no call to the
    # public validator service.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# Preprocessing: a run folder nothing has written to for this long, and no scan points at, was left by a
# killed worker; the next run of that scan removes it.
PREPROCESS_STALE_RUN_SECONDS = int(os.environ.get("PREPROCESS_STALE_RUN_SECONDS", 900))
# Whether preprocessing also writes each station on its own grid (12 files, about 19 MB a scan at full scale).
# Off: the marrow slabs are read from the archive instead (a fraction of a second per station), and the
# stations' grids are recorded with every run either way.
IMAGING_KEEP_STATION_VOLUMES = os.environ.get("UKBSTUDY_KEEP_STATION_VOLUMES", "0") == "1"
# How fused fat and water are gzipped: "small" (zlib level 4; about 19.7 MB of derived files a scan at full
# scale) or "fast" (ISA-L level 2; about 1 s less per scan on one core for about 1.5 MB more). Both are standard
# .nii.gz (ml/imaging/nifti.py has the measurements).
IMAGING_VOLUME_COMPRESSION = os.environ.get("UKBSTUDY_VOLUME_COMPRESSION", "small")
# The QC viewer's slice stacks (uint8, about 14 MB per volume at full scale, made on a scan's first slice asked
# for): a cache of this web server's, outside the media root, the stacks viewed longest ago removed once it
# holds more than IMAGING_VIEWER_CACHE_BYTES; each is made again in a third of a second when asked for.
IMAGING_VIEWER_CACHE_ROOT = Path(os.environ.get("UKBSTUDY_VIEWER_CACHE_ROOT", DATA_DIR / "cache" / "viewer"))
IMAGING_VIEWER_CACHE_BYTES = int(os.environ.get("UKBSTUDY_VIEWER_CACHE_BYTES", 2 * 1024**3))

# Content-Security-Policy (django-csp): everything from this site only (Plotly is served from static/), no inline
# script, no plugins, no framing, forms post only here. Our templates carry no inline style either, but the
# vendored Plotly (3.x, https://github.com/plotly/plotly.js/issues/7543) styles its charts at run time: style
# attributes, which style-src-attr allows (they reach one element each: no selectors, no @import), and two
# <style> elements, allowed by their hashes (an empty one it fills through the CSSOM, and its mode bar rules),
# so an injected <style> element is still refused. A Plotly upgrade may change the second hash: the browser
# test tests/browser/test_csp.py then names the new one. Browsers without the -elem/-attr directives use
# style-src: strict, with unstyled charts.
CSP_PLOTLY_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # the empty string
    "'sha256-V2sIX92Uh6ZaGSFTKMHghsB85b9toJtmazgG09AI2uk='",  # plotly.js 3.3.1's injected rules
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-elem": [SELF, *CSP_PLOTLY_STYLE_HASHES],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],  # Plotly probes image support with data: URLs
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Visual QC: independent ratings wanted per scan (2 = double reading) and how long a rater holds a scan.
QC_RATINGS_PER_SCAN = int(os.environ.get("QC_RATINGS_PER_SCAN", 1))
QC_LOCK_SECONDS = int(os.environ.get("QC_LOCK_SECONDS", 600))

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("UKBSTUDY_STATIC_ROOT", DATA_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("UKBSTUDY_MEDIA_ROOT", DATA_DIR / "media"))

# Celery: long image and training tasks. A task is acknowledged only when it has finished, a worker
# takes one task at a time, and a task killed with its worker goes back on the queue.
CELERY_TASK_ALWAYS_EAGER = not os.environ.get("CELERY_BROKER_URL")
# Without a broker, the web server runs the jobs its pages start in one background thread (jobs/background.py).
JOBS_IN_SERVER_THREAD = os.environ.get("UKBSTUDY_JOBS_IN_SERVER_THREAD", "1") == "1"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "memory://"  # in-process: never connected to
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_EAGER_PROPAGATES = False  # like a worker: a failure is recorded on its job, not raised
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", 6 * 3600))
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 300
CELERY_TASK_IGNORE_RESULT = True  # job state lives in the database (jobs.Job), not in a result backend
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Networks (liver fat, bone marrow): "auto" takes CUDA when present; CPU threads (0: PyTorch's default).
LIVERFAT_DEVICE = os.environ.get("LIVERFAT_DEVICE", "auto")
TORCH_NUM_THREADS = int(os.environ.get("TORCH_NUM_THREADS", 0))

# Redis redelivers a task whose worker died (SIGKILL, lost machine) once this many seconds have passed.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 600))}
CELERY_WORKER_MAX_TASKS_PER_CHILD = 50

# Import limits: an archive is refused before extraction when it would exceed these.
UKB_IMPORT_LIMITS = {
    "max_archive_bytes": int(os.environ.get("UKB_MAX_ARCHIVE_BYTES", 2 * 1024**3)),
    "max_uncompressed_bytes": int(os.environ.get("UKB_MAX_UNCOMPRESSED_BYTES", 4 * 1024**3)),
    "max_member_bytes": int(os.environ.get("UKB_MAX_MEMBER_BYTES", 64 * 1024**2)),
    "max_ratio": float(os.environ.get("UKB_MAX_COMPRESSION_RATIO", 200)),
    "max_members": int(os.environ.get("UKB_MAX_MEMBERS", 20000)),
}
# Whether the DICOM PatientID of an archive's members carries the eid of its file name (the default;
# public code does not show it either way, see ml/ukb/identity.py). Set UKB_ARCHIVE_EID_IN_HEADERS=0 where
# headers carry no eid: the file name is then trusted, and members must still be MR of one patient and study.
UKB_ARCHIVE_EID_IN_HEADERS = os.environ.get("UKB_ARCHIVE_EID_IN_HEADERS", "1") == "1"
# Whether imports register archives where they lie (a read-only bulk folder, a shared filesystem) instead of
# copying each under MEDIA_ROOT (42 MB per scan); `import_ukb --in-place / --no-in-place` overrides it.
IMAGING_ARCHIVES_IN_PLACE = os.environ.get("UKBSTUDY_ARCHIVES_IN_PLACE", "0") == "1"
# Optional CSV (field,key,name,kind,unit) adding reference or covariate fields to the catalogue.
UKB_EXTRA_FIELDS = os.environ.get("UKB_EXTRA_FIELDS", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # A refused or bad request (4xx) is the client's doing: one warning line, without the traceback Django
    # attaches to a PermissionDenied; server errors (5xx) keep theirs.
    "filters": {
        "client_errors_without_traceback": {"()": "ukbstudy.settings.log_filters.ClientErrorsWithoutTraceback"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"filters": ["client_errors_without_traceback"]},
        # One line per finished task is noise when tasks run in-process from a command.
        "celery.app.trace": {"level": "WARNING"},
    },
}
