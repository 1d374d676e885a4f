"""Django settings, read from the environment in this one place.

With no environment set, the tracker runs embedded: SQLite in ``var/`` and a Celery broker
that needs no server. ``DATABASE_URL``, ``CELERY_BROKER_URL`` and ``EMAIL_URL`` switch to
PostgreSQL, Redis and a real SMTP server. ``DJANGO_ENV=production`` demands real secrets.
"""

import datetime as dt
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")
VAR_DIR = Path(env.str("TRACKER_VAR_DIR", default=str(BASE_DIR / "var")))

DJANGO_ENV = env.str("DJANGO_ENV", default="local")
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-only-insecure-key-do-not-deploy")
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"]
)
SITE_URL = env.str("TRACKER_SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "tracker.admin_config.TrackerAdminConfig",  # django.contrib.admin, with its site's checks
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The public site's sitemap.xml (issue 15).
    "django.contrib.sitemaps",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "import_export",
    "core",
    "commitments",
    "alerts",
    "api",
    "webhooks",
    "feeds",
    "dashboard",
    "publicsite",
    "accounts",
    "axes",
    "django_htmx",
]

MIDDLEWARE = [
    "tracker.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "tracker.csp.ScopedCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Stored public pages are served from here, before the session and the user are read.
    "publicsite.cache.PublicCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # request.htmx: the workbench answers its htmx requests with fragments.
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns a lockout raised by the backend into a 429.
    "axes.middleware.AxesMiddleware",
]

# Login brute-force protection (django-axes): the backend refuses a username from an address
# after AXES_FAILURE_LIMIT failures for an hour; a successful login clears the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(hours=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

ROOT_URLCONF = "tracker.urls"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "login"
WSGI_APPLICATION = "tracker.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'tracker.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# A web or worker process keeps its connection between requests (a new PostgreSQL connection
# costs more than most requests' queries), checked before reuse so a restarted server costs
# one retry, not an error. ``?conn_max_age=`` in DATABASE_URL wins over DATABASE_CONN_MAX_AGE.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The statements a hot path repeats (core.prepared) are prepared by psycopg once they ran
    # this many times on a connection. Behind a pooler in transaction mode (PgBouncer before
    # 1.21), set DATABASE_PREPARE_THRESHOLD=off: its sessions cannot keep them.
    _prepare = env.str("DATABASE_PREPARE_THRESHOLD", default="5").strip().lower()
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "prepare_threshold", None if _prepare in {"", "off", "none"} else int(_prepare)
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server, worker and beat share the embedded file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache holds API throttle counters: set CACHE_URL (e.g. redis://host:6379/2) when several
# web processes must share them; the default is per process.
CACHES = {
    "default": env.cache_url("CACHE_URL", default="locmemcache://"),
    # Rendered page sections kept under a version of their rows (core.fragments): in each
    # process's memory, where a hit costs no transfer; an agreement page's sections take about
    # 0.5 MB for 1,000 commitments, so FRAGMENT_CACHE_ENTRIES bounds the memory they hold.
    "fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "fragments",
        "TIMEOUT": env.int("FRAGMENT_CACHE_SECONDS", default=3600),
        "OPTIONS": {"MAX_ENTRIES": env.int("FRAGMENT_CACHE_ENTRIES", default=24)},
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Uploaded originals (archived sources). They are never served from MEDIA_URL: the source
# download view sends them as attachments with a safe type; any Django storage works.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # a long pasted source text
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# E-mail: EMAIL_URL (smtp://user:pass@host:port, smtp+tls://…) or the console in local runs.
if "EMAIL_URL" in env:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str(
        "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
    )
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="tracker@localhost")

# Celery: Redis in production and CI; a SQLite-backed broker needing no server by default.
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# Late acknowledgement is set per task, on the tasks that are safe to run twice.
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The visibility timeout is Redis's: the SQLAlchemy transport hands its options to
# create_engine(), which rejects unknown ones.
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
    if CELERY_BROKER_URL.partition("://")[0] in {"redis", "rediss", "sentinel"}
    else {}
)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The one place the schedule lives; the DatabaseScheduler copies it into its tables at start,
# where the admin shows it. ``expire_seconds`` (django-celery-beat's spelling of ``expires``)
# drops runs that queued up while no worker was there: the next run does the same work.
CELERY_BEAT_SCHEDULE = {
    "scan-deadlines": {
        "task": "alerts.scan_deadlines",
        "schedule": crontab(minute="*/15"),
        "options": {"expire_seconds": 15 * 60},
    },
    "send-alerts": {
        "task": "alerts.send_alerts",
        "schedule": crontab(),
        "options": {"expire_seconds": 60},
    },
    "send-digests": {
        "task": "alerts.send_digests",
        "schedule": crontab(hour=7, minute=0),
        "options": {"expire_seconds": 12 * 60 * 60},
    },
    "send-webhooks": {
        "task": "webhooks.send_webhooks",
        "schedule": crontab(),
        "options": {"expire_seconds": 60},
    },
}

# REST API v1. Anonymous callers get 401 unless API_PUBLIC_READ lets them read.
API_PUBLIC_READ = env.bool("API_PUBLIC_READ", default=False)
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "core.rest.schema.ApiAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.rest.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "core.rest.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["core.rest.parsers.JsonBodyParser"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle"],
    # Throttles count per address: REMOTE_ADDR, or behind N proxies the address the outermost
    # one saw. DRF's default (None) would take X-Forwarded-For, which any client can forge.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_THROTTLE_RATE_TOKEN", default="1200/minute"),
        "user": env.str("API_THROTTLE_RATE_USER", default="600/minute"),
        "anon": env.str("API_THROTTLE_RATE_ANON", default="60/minute"),
    },
    "EXCEPTION_HANDLER": "core.rest.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Commitment Tracker API",
    "DESCRIPTION": (
        "Agreements, the commitments in them with computed deadlines, their sources and "
        "progress, and the caller's own subscriptions and alerts.\n\n"
        "**Authentication**: `Authorization: Token <key>` (see `manage.py create_api_token`) "
        "or a session cookie. **Roles**: viewers read, editors write, admins everything; "
        "anonymous callers get 401 unless public read is on. **Errors** are JSON: `detail`, "
        "or each refused field with its reasons; nothing is written on a 4xx. **Lists** are "
        "paged (`page`, `page_size` up to 500) and stably ordered; the commitment list also "
        "takes `cursor` for deep walks (keyset pages, `count` bounded: `count_exact`). "
        "**Polling**: send the `ETag` back in `If-None-Match` to get a 304. "
        "**Throttling**: 429 with `Retry-After`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PartyKindEnum": "commitments.choices.PartyKind",
        "AgreementKindEnum": "commitments.choices.AgreementKind",
        "SourceKindEnum": "commitments.choices.SourceKind",
        "CategoryEnum": "commitments.choices.Category",
        "UnitEnum": "commitments.choices.Unit",
        "DeadlineKindEnum": "commitments.choices.DeadlineKind",
        "OffsetUnitEnum": "commitments.choices.OffsetUnitChoice",
        "PeriodUnitEnum": "commitments.choices.PeriodUnitChoice",
        "AnchorKindEnum": "commitments.choices.AnchorKind",
        "StatusEnum": "commitments.choices.Status",
        "DeadlineStateEnum": "commitments.choices.DeadlineState",
        # Issue 12, h3: one name for the precision of every date (due, fixed, effective).
        "PrecisionEnum": "commitments.choices.PrecisionChoice",
        "EndReasonEnum": "commitments.choices.EndReason",
        # Issue 13, h1: a recorded rating, and a rating as shown (with "not_rated").
        "RatingEnum": "commitments.choices.RatingChoice",
        "RatingShownEnum": "commitments.choices.RATING_SHOWN_CHOICES",
        "PaceEnum": "commitments.choices.PaceChoice",
        "SubscriptionScopeEnum": "alerts.models.SubscriptionScope",
        "DeliveryModeEnum": "alerts.models.DeliveryMode",
        "AlertStateEnum": "alerts.models.AlertState",
        "WebhookEventKindEnum": "webhooks.models.EventKind",
        "WebhookDeliveryStateEnum": "webhooks.models.DeliveryState",
        # Deadline revisions and timeliness (issue 12).
        "RevisionKindEnum": "commitments.choices.RevisionKind",
        "FulfilmentTimingEnum": "commitments.choices.FulfilmentTiming",
    },
}

# Deadline watch.
TRACKER_DEFAULT_LEAD_DAYS = [30, 7, 1]
#: A commitment is "due soon" inside this many days of its due instant (the largest lead time).
TRACKER_DUE_SOON_DAYS = env.int("TRACKER_DUE_SOON_DAYS", default=max(TRACKER_DEFAULT_LEAD_DAYS))
#: Open-ended recurring commitments have their occurrences written this many days ahead; the
#: scan tops them up as time passes (commitments.deadlines.recurrence).
TRACKER_OCCURRENCE_HORIZON_DAYS = env.int("TRACKER_OCCURRENCE_HORIZON_DAYS", default=730)
#: A rating not reviewed for this many days is flagged "review due" by the scan.
TRACKER_REVIEW_AFTER_DAYS = env.int("TRACKER_REVIEW_AFTER_DAYS", default=180)
# Archived sources: the largest original file accepted (bytes) and the longest text kept.
TRACKER_SOURCE_MAX_BYTES = env.int("TRACKER_SOURCE_MAX_BYTES", default=20 * 1024 * 1024)
TRACKER_SOURCE_MAX_CHARS = env.int("TRACKER_SOURCE_MAX_CHARS", default=2_000_000)
TRACKER_ESCALATION_EMAIL = env.str("TRACKER_ESCALATION_EMAIL", default="")
TRACKER_ESCALATION_AFTER_DAYS = env.int("TRACKER_ESCALATION_AFTER_DAYS", default=7)
# Alert delivery: attempts before an alert is marked failed, and the exponential backoff
# between attempts (base * 2^(attempt-1), capped).
TRACKER_ALERT_MAX_ATTEMPTS = env.int("TRACKER_ALERT_MAX_ATTEMPTS", default=8)
TRACKER_ALERT_BACKOFF_SECONDS = env.int("TRACKER_ALERT_BACKOFF_SECONDS", default=60)
TRACKER_ALERT_BACKOFF_MAX_SECONDS = env.int("TRACKER_ALERT_BACKOFF_MAX_SECONDS", default=6 * 3600)
TRACKER_ALERT_BATCH_SIZE = env.int("TRACKER_ALERT_BATCH_SIZE", default=200)
# Senders that drain a backlog at once (send_alerts tasks enqueued after a scan; their claims
# skip each other's rows). One sender waits, per mail, for the SMTP server's four replies (the
# previous mail's mark commits during the first two); a second sends meanwhile, and PostgreSQL
# flushes their commits together. Each needs a worker process (WORKER_CONCURRENCY in
# scripts/worker.sh). One by default: beside the web server on 2 cores, a second raised the
# web's p95 by half (README).
TRACKER_ALERT_SENDERS = env.int("TRACKER_ALERT_SENDERS", default=1)

# Webhooks (docs/operations.md, "Webhooks"). Targets must be https on public addresses, except
# the hosts listed here (http and any address allowed: internal receivers, loopback in tests).
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_BACKOFF_SECONDS = env.int("WEBHOOK_BACKOFF_SECONDS", default=30)
WEBHOOK_BACKOFF_MAX_SECONDS = env.int("WEBHOOK_BACKOFF_MAX_SECONDS", default=6 * 3600)
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOK_CONNECT_TIMEOUT_SECONDS", default=3.0)
WEBHOOK_READ_TIMEOUT_SECONDS = env.float("WEBHOOK_READ_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_ATTEMPT_TIMEOUT_SECONDS = env.float("WEBHOOK_ATTEMPT_TIMEOUT_SECONDS", default=15.0)
WEBHOOK_BATCH_SIZE = env.int("WEBHOOK_BATCH_SIZE", default=100)
WEBHOOK_MAX_ENDPOINTS_PER_USER = env.int("WEBHOOK_MAX_ENDPOINTS_PER_USER", default=10)

# Logging: one JSON object a line in production (DJANGO_LOG_FORMAT=json), plain text locally.
LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "tracker.logging.RequestIdFilter"},
        "redact_secrets": {"()": "tracker.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "plain": {
            "()": "tracker.logging.TextFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {"()": "tracker.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id", "redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # Django's own handlers (a second, unfiltered console copy under DEBUG; mail to ADMINS)
    # are dropped: its lines reach the console handler above, once, with secrets cut.
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # WeasyPrint logs each layout step of a report's PDF at INFO; keep its warnings only.
        "weasyprint": {"handlers": [], "level": "WARNING", "propagate": True},
        "fontTools": {"handlers": [], "level": "WARNING", "propagate": True},
    },
}
# With JSON logs, Celery's worker and beat keep Django's handlers instead of their own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"

# Transport security. In production everything is HTTPS behind a proxy that sets
# X-Forwarded-Proto; `manage.py check --deploy --fail-level WARNING` passes with these.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): our pages load scripts, styles and images from this
# site only, and no other site may frame them. tracker.csp widens it for the API's Swagger UI,
# whose page carries an inline script and inline styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Publishing (issue 15). With review required, an agreement is published from "in review"
# by an editor other than the one who submitted it or made its latest change.
TRACKER_PUBLISH_REVIEW_REQUIRED = env.bool("TRACKER_PUBLISH_REVIEW_REQUIRED", default=False)
# The public site's address: "/public/" by default; "/" puts it at the site root (the
# dashboard then lives under /dashboard/).
TRACKER_PUBLIC_AT_ROOT = env.bool("TRACKER_PUBLIC_AT_ROOT", default=False)
# How long a public page is kept by our cache (publicsite.cache) and by browsers and proxies
# (Cache-Control max-age), in seconds. With the default per-process cache, also the longest a
# page may stay stale after a change made in another process (set CACHE_URL in production).
TRACKER_PUBLIC_CACHE_SECONDS = env.int("TRACKER_PUBLIC_CACHE_SECONDS", default=60)
