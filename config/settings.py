"""One settings module, read from the environment (see `.env.example`).

Defaults make the quick start work with zero configuration (SQLite file, a fixed development
secret when DEBUG is asked for) and are production-safe otherwise: DEBUG is off unless
`DJANGO_DEBUG` says so, and without DEBUG a real `DJANGO_SECRET_KEY` is required. Reading the
settings writes nothing. Every variable may instead be given as a file: `NAME_FILE=/run/secrets/…`
(django-environ's FileAwareEnv), as container secrets are.
"""

import sys
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from environ.fileaware_mapping import FileAwareMapping

BASE_DIR = Path(__file__).resolve().parent.parent


class _SecretFiles(FileAwareMapping):
    """NAME_FILE's content, without the line end that `echo` and editors leave: a key signed
    with a trailing newline (boto3, SMTP) would fail."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        return value.rstrip("\r\n") if self.env.get(key + "_FILE") else value


class _Env(environ.FileAwareEnv):
    ENVIRON = _SecretFiles()


env = _Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

TESTING = "pytest" in sys.modules or env.bool("DJANGO_TESTING", default=False)
DEBUG = env.bool("DJANGO_DEBUG", default=False)


def _secret_key() -> str:
    key = env.str("DJANGO_SECRET_KEY", default="")
    if key:
        return key
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "Set DJANGO_SECRET_KEY or DJANGO_SECRET_KEY_FILE "
            "(or DJANGO_DEBUG=true for development)."
        )
    # Development only, and known to everyone: `check --deploy` flags the "django-insecure"
    # prefix (security.W009), and without DEBUG a real key is required above.
    return "django-insecure-mensenrechtenfonds-development-only-never-in-production"


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "simple_history",
    "axes",
    "import_export",
    "django_celery_beat",
    "django_guid",
    "csp",
    "outbox",
    "readlog",
    "countries",
    "priorities",
    "grants",
    "reports",
    "seeds",
    "config.apps.ConfigConfig",
]

MIDDLEWARE = [
    # First: every log line of the request carries its id (X-Request-ID, see LOGGING).
    "django_guid.middleware.guid_middleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # R11: an inspection's account opens its list and nothing else, and what a response
    # shows of confidential data is recorded before it leaves.
    "readlog.middleware.ReadLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    # An empty DATABASE_URL (as in .env.example) means the embedded SQLite default.
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    ),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)
# A dead connection (a database failover, an idle timeout) is noticed before a request uses it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DJANGO_CONN_HEALTH_CHECKS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg's connection pool: DATABASE_URL=postgres://…?pool=true (the URL gives a text).
    # The pool keeps the connections, so Django's own persistent connections are off.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # Prepared statements: only the API's busiest list pages ask for them (grants.api.pages);
    # Django's own cursors bind parameters on the client and never prepare. Django turns them
    # off for transaction poolers (PgBouncer before 1.22, or without max_prepared_statements):
    # there, DJANGO_DB_PREPARED_STATEMENTS=false (docs/deploy.md).
    if env.bool("DJANGO_DB_PREPARED_STATEMENTS", default=True):
        _options.setdefault("prepare_threshold", 5)
    _pool = str(_options.pop("pool", "")).lower()
    if _pool in ("true", "1", "yes", "on"):
        _options["pool"] = {
            "min_size": env.int("DJANGO_DB_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DJANGO_DB_POOL_MAX_SIZE", default=10),
            "timeout": env.int("DJANGO_DB_POOL_TIMEOUT", default=10),
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has no row locks: take the write lock when a transaction starts, so concurrent
    # writers queue instead of failing with "database is locked" half-way.
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if TESTING:
    # Hashing test users' passwords properly costs a third of a second each; tests need none.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The fund's access policy (fund.access) answers user.has_perm("fund.…", obj) for the admin
# and the API; Django's model permissions stay as they are.
AUTHENTICATION_BACKENDS = [
    # First: refuses a login for a username and address that guessed wrong too often.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Password guessing (django-axes): after AXES_FAILURE_LIMIT failed logins for one username from
# one address, that pair is locked out for AXES_COOLOFF_HOURS; a lockout is answered in the
# user's language (registration/lockout.html) and recorded in the admin.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(hours=env.float("AXES_COOLOFF_HOURS", default=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Behind a TLS proxy the client's address is in X-Forwarded-For (set DJANGO_BEHIND_TLS_PROXY).
# The proxy appends the address it saw: the right-most entry is the one nobody could forge.
AXES_IPWARE_PROXY_ORDER = "right-most"
AXES_IPWARE_PROXY_COUNT = 1 if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False) else None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
    else ["REMOTE_ADDR"]
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
# With DEBUG off the app serves its own static files (WhiteNoise): hashed, compressed names
# that browsers may cache for good, so every web process works with or without a proxy in
# front. `manage.py collectstatic` writes them (config.checks refuses a deploy without).
if not (DEBUG or TESTING):  # development serves them from the apps' folders (runserver)
    MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                      "whitenoise.middleware.WhiteNoiseMiddleware")  # fmt: skip
# Files the app writes (IATI exports, import files between preview and confirmation) go through
# Django's storage API only: on a local folder (DJANGO_MEDIA_ROOT, a volume shared by the web
# servers and the workers) or, with DJANGO_STORAGE_BUCKET, in a private bucket of an
# S3-compatible object store (django-storages; docs/deploy.md). Never served as public media:
# the admin hands them to those who may read them.
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
if env.str("DJANGO_STORAGE_BUCKET", default=""):
    _file_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("DJANGO_STORAGE_BUCKET"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("DJANGO_STORAGE_PREFIX", default=""),
            # Private objects, never overwritten (a second file of a name gets another name).
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    _file_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _file_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security: production-safe unless DEBUG -------------------------------------------------
# The test client speaks plain HTTP; everything else redirects to HTTPS unless DEBUG.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not (DEBUG or TESTING))
# Load balancers probe the health check over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^health/ready/$"]
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading is a promise to the browsers' preload list (hstspreload.org) that every subdomain
# is HTTPS for good: the operator makes it, not a default.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy (django-csp): scripts, styles, images and fonts only from the app
# itself (the API docs' Swagger UI and Redoc included: vendored, no CDN); nothing may frame
# it, post a form elsewhere or load a plugin. Inline styles are allowed (the admin's widgets,
# Swagger UI and Redoc set them); inline scripts are not. Redoc's search runs in a blob: worker.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Permissions-Policy (django-permissions-policy): no page of the fund uses a camera, a
# microphone, the location, payments or sensors; none may ask for them.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media",
        "fullscreen", "geolocation", "gyroscope", "magnetometer", "microphone", "midi",
        "payment", "picture-in-picture", "publickey-credentials-get", "screen-wake-lock",
        "sync-xhr", "usb", "xr-spatial-tracking",
    )
}  # fmt: skip

# --- REST API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Embassy tools send `Authorization: Token <key>` or `Bearer <key>` (knox: stored hashed,
    # with expiry, revocable in the admin); the API docs also accept the admin session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.authentication.FundTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # R11: nothing but the health check is reachable without authentication.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["fund.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.StrictJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.parsers.StrictContentNegotiation",
    # The API's own documentation is the OpenAPI schema; OPTIONS is not another one.
    "DEFAULT_METADATA_CLASS": None,
    "DATE_INPUT_FORMATS": ["%Y-%m-%d"],
    "DEFAULT_SCHEMA_CLASS": "grants.api.schema.ProblemAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "fund.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Requests per user (429 beyond); the counters live in the cache, so several app servers
# need a shared cache (CACHE_URL=redis://…) to count together.
API_USER_THROTTLE_RATE = env.str("API_USER_THROTTLE_RATE", default="600/minute")
# How long a POST's Idempotency-Key is remembered (a retry within it gets the first answer).
API_IDEMPOTENCY_KEY_HOURS = env.int("API_IDEMPOTENCY_KEY_HOURS", default=24)
CACHES = {
    "default": environ.Env.cache_url_config(
        env.str("CACHE_URL", default="") or "locmemcache://mensenrechtenfonds"
    )
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "config.cache.RedisCache"  # one redis-py client, held
# The API docs' login page, for ministry and embassy users alike.
LOGIN_URL = "login"
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=90)),
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mensenrechtenfonds — embassy API",
    "DESCRIPTION": (
        "The REST API through which a post (embassy) of the Dutch decentral Human Rights Fund "
        "drafts and submits its annual plan and runs its partners, projects and results. "
        "Every object is the caller's post's own: another post's objects answer 404, as if "
        "they did not exist. Errors are RFC 9457 problem details whose `errors[].code` is the "
        "rule id (R1–R13) for a breach of the fund's rules. Send `Authorization: Token <key>`; "
        "PUT, PATCH and DELETE need `If-Match` with the ETag you read; POST accepts an "
        "`Idempotency-Key` so a retry never writes twice."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SCHEMA_PATH_PREFIX_TRIM": False,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PlanStatusEnum": "grants.cycles.PlanStatus",
        "ReportStatusEnum": "grants.cycles.AnnualReportStatus",
        "ProjectStatusEnum": "grants.models.ProjectStatus",
        "PostRoleEnum": "fund.access.PostRole",
    },
    # Swagger UI and Redoc from the app's own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Redoc's script through config.api_docs, which swaps its one outside address (a logo).
    "REDOC_DIST": "/api/redoc",
}

# --- Celery ---------------------------------------------------------------------------------
# Without a broker (the quick start, the tests) messages go to an embedded transport, so that
# nothing waits for a service that is not there: in tests an in-memory one, otherwise kombu's
# filesystem transport in .celery/ (a worker started beside it picks them up).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or (
    "memory://" if TESTING else "filesystem://"
)
if CELERY_BROKER_URL == "filesystem://":
    # The folders are made when Celery first uses them (config/celery.py), not here: reading
    # the settings writes nothing.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BASE_DIR / ".celery" / "queue"),
        "data_folder_out": str(BASE_DIR / ".celery" / "queue"),
        "processed_folder": str(BASE_DIR / ".celery" / "processed"),
        "control_folder": str(BASE_DIR / ".celery" / "control"),
        "store_processed": False,
    }
else:
    # A task whose worker vanished before acknowledging it is handed out again after this
    # long (Redis, SQS). Longer than any task's hard time limit (the IATI export: 1900 s) and
    # any retry's countdown, or a running or waiting task would be handed out twice. A lost
    # worker's reports and e-mails do not wait for it: the start sweep catches them up.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TIMEZONE = TIME_ZONE
# Exactly once (docs/delivery.md): a task is acknowledged only when it has finished, and
# one whose worker process died (killed, out of memory) goes back to the queue instead of
# being dropped; every task is idempotent, so running it again is safe.
CELERY_TASK_ACKS_LATE = True
# Three queues, so that one kind of work never waits behind another: e-mail (the outbox, every
# minute), reports (the periodic reports and the sweep) and exports (the IATI file, up to half
# an hour). A worker reads the queues it is started with (`celery -A config worker -Q mail`);
# docs/deploy.md runs one worker for e-mail and reports and one for exports.
CELERY_TASK_DEFAULT_QUEUE = "reports"
CELERY_TASK_ROUTES = {
    "outbox.tasks.*": {"queue": "mail"},
    "grants.notifications.*": {"queue": "mail"},
    "reports.tasks.send_report_email": {"queue": "mail"},  # an earlier release's, by name
    "reports.tasks.export_iati": {"queue": "exports"},
    "reports.tasks.publish_monthly_iati": {"queue": "exports"},
    "reports.tasks.*": {"queue": "reports"},
    "readlog.tasks.*": {"queue": "reports"},
}
CELERY_QUEUE_NAMES = ("mail", "reports", "exports")
# A worker started without --queues reads all three (the quick start; a forgotten -Q never
# leaves the e-mail unread).
CELERY_TASK_QUEUES = {name: {"exchange": name, "routing_key": name} for name in CELERY_QUEUE_NAMES}
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Nothing hangs: every task has a soft limit (an exception it can clean up after) and a hard
# one (the process is killed; Celery counts the task as failed: the sweep makes a report
# again, the lease lets another worker send an e-mail).
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=660)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A pool process is replaced after this many tasks: a slow leak (openpyxl, lxml) cannot grow.
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("CELERY_WORKER_MAX_TASKS_PER_CHILD", default=100)
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=4)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# --- E-mail (notifications of the plan cycle) ---------------------------------------------------
# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.org:587; without it, mail is printed to
# the console (development). DEFAULT_FROM_EMAIL is the sender.
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="mensenrechtenfonds@localhost")
# A mail server that accepts the connection and never answers is given up on after this.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# The outbox (outbox.services): every e-mail is a row, delivered by the workers, retried with
# exponential back-off (base and maximum wait) up to a number of attempts, then "not
# delivered" (the admin resends it) — or once it is GIVE_UP_HOURS old, so that a weekend's
# outage is outlasted. A worker delivers for at most BATCH seconds per task; a message a dead
# worker held is retried after LEASE seconds (longer than the task's hard limit).
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=100)
OUTBOX_GIVE_UP_HOURS = env.int("OUTBOX_GIVE_UP_HOURS", default=72)
OUTBOX_RETRY_SECONDS = env.int("OUTBOX_RETRY_SECONDS", default=60)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=3600)
OUTBOX_BATCH_SECONDS = env.int("OUTBOX_BATCH_SECONDS", default=120)
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=600)
# Sent e-mails are kept this long (the outbox's list in the admin), then removed daily.
OUTBOX_KEEP_DAYS = env.int("OUTBOX_KEEP_DAYS", default=90)
# Who gets the periodic reports (comma-separated addresses).
FUND_REPORT_RECIPIENTS = env.list("FUND_REPORT_RECIPIENTS", default=[])
# Making a report: its soft and hard time limits; a report "being made" for longer than the
# hard limit is taken over by the sweep, which also makes every scheduled period of the last
# CATCH_UP days that has no report (a beat that could not reach the broker) every
# SWEEP_MINUTES and at every worker's start.
REPORT_SOFT_TIME_LIMIT = env.int("REPORT_SOFT_TIME_LIMIT", default=300)
REPORT_TIME_LIMIT = env.int("REPORT_TIME_LIMIT", default=360)
REPORT_CATCH_UP_DAYS = env.int("REPORT_CATCH_UP_DAYS", default=35)
# The address the app is reached at, for links in e-mails.
FUND_SITE_URL = env.str("FUND_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Import and export in the admin (posts, participations, allocations): CSV and XLSX; an
# import runs in one transaction, so a refused row leaves nothing written.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# The uploaded file waits for its confirmation in the file storage, not a web process's /tmp:
# any web server may answer the confirmation. Removed when confirmed, or after a day.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.MediaStorage"

# Audit history is read-only: a "revert" would write around the service layer. It is kept for
# good unless FUND_HISTORY_KEEP_DAYS says how long (removed daily past it).
SIMPLE_HISTORY_REVERT_DISABLED = True
FUND_HISTORY_KEEP_DAYS = env.int("FUND_HISTORY_KEEP_DAYS", default=0)
# The read log (readlog): who saw confidential data. Kept for good unless READLOG_KEEP_DAYS
# says how long; pruning past it is the only removal, and itself recorded.
READLOG_KEEP_DAYS = max(0, env.int("READLOG_KEEP_DAYS", default=0))
# The daily check e-mails the fund managers about a user who read more highly sensitive
# partners than this in a day, or the participating posts outside working hours (from, to:
# hours on weekdays, the fund's time zone).
READLOG_ALERT_PARTNERS = env.int("READLOG_ALERT_PARTNERS", default=25)
READLOG_WORKING_HOURS = tuple(env.list("READLOG_WORKING_HOURS", cast=int, default=[7, 19]))

# --- The fund --------------------------------------------------------------------------------
# Default R9 threshold for new fund years; each fund year keeps its own value.
FUND_DEFAULT_MIN_PROJECT_SIZE_EUR = env.int("FUND_DEFAULT_MIN_PROJECT_SIZE_EUR", default=100_000)

# IATI publication (R11): the reporting organisation's identifier (the ministry's DAC code)
# prefixes every activity identifier; a region is published only where at least this many
# participating posts stand for it (see reports.iati.policy); how many exports are kept
# (the attacker reads all kept files together: keep every file the fund published).
IATI_REPORTING_ORG = env.str("IATI_REPORTING_ORG", default="XM-DAC-7")
IATI_REGION_MIN_POSTS = env.int("IATI_REGION_MIN_POSTS", default=3)
IATI_EXPORTS_KEPT = env.int("IATI_EXPORTS_KEPT", default=0)  # 0: every file

# One line per event on standard error, with its time, level, logger and request id: as
# text, or as JSON (DJANGO_LOG_FORMAT=json) for a log collector. Django's own console handler
# is dropped, so that nothing is written twice (it would print beside the root's). Workers
# and beat log the same way (django-guid's Celery integration).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.observability.RequestIdFilter"},
        "expected_refusal": {"()": "config.observability.ExpectedRefusalFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(correlation_id)s %(message)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "correlation_id": "request_id",
            },
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env.str("DJANGO_LOG_FORMAT", default="text"),
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # A 403 or 404 is one line, no traceback (config.observability).
        "django.request": {"filters": ["expected_refusal"], "propagate": True},
        # It would log twice per request that it found or made an id.
        "django_guid": {"level": "WARNING"},
    },
}

# Request ids (django-guid): each request gets one (or keeps a valid UUID the proxy sent in
# X-Request-ID), answered in the same header and written on every log line of the request and
# of the tasks it queued, so that one event is followed from the proxy to the worker.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": False,
    "INTEGRATIONS": [],
}
if not TESTING:  # the tests' in-memory broker runs tasks in the test's own thread
    from django_guid.integrations import CeleryIntegration

    DJANGO_GUID["INTEGRATIONS"] = [CeleryIntegration(use_django_logging=True, log_parent=False)]

# Error tracking (optional): with SENTRY_DSN, unexpected errors of the web processes, workers
# and beat go to Sentry (or a compatible service such as GlitchTip), scrubbed for R11 before
# they leave (config.observability): no request body, query string, cookie, local variable or
# database error detail, which could carry a partner's name.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.observability import start_error_tracking

    start_error_tracking(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default="") or None,
    )
