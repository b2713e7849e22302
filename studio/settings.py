"""Switchboard settings: one module, every knob an environment variable.

With no variables set this is the embedded default (SQLite and a filesystem broker
under ./var/, sandboxes on). With DATABASE_URL and REDIS_URL it is the scaled setup.
SWITCHBOARD_ENV=production turns on the secure defaults that `check --deploy` wants
and turns the sandboxes off unless asked for. See README.md for the list.
"""

import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("SWITCHBOARD_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
PRODUCTION = env.str("SWITCHBOARD_ENV", default="development") == "production"
DEBUG = env.bool("DEBUG", default=False)


def _local_secret(name: str, make) -> str:
    """A secret kept in ./var/ for the embedded default; production must set it."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret("secret.key", lambda: secrets.token_urlsafe(50))

# Credentials at rest: MultiFernet over these keys, newest first (rotation = prepend).
_fernet_keys = env.list("SWITCHBOARD_FERNET_KEYS", default=[])
if not _fernet_keys and not PRODUCTION:
    from cryptography.fernet import Fernet

    _fernet_keys = [_local_secret("fernet.key", lambda: Fernet.generate_key().decode())]
SWITCHBOARD_FERNET_KEYS = _fernet_keys

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally
    "django_htmx",
    "django_celery_beat",
    "integrations.accounts",
    "integrations.audit",
    "integrations.health",
    "integrations.connections",
    "integrations.flows",
    "integrations.events",
    "integrations.runs",
    "integrations.runs.rollups",  # hourly run counts for the dashboards
    "integrations.triggers",
    "integrations.deliveries",
    "integrations.approvals",
    "integrations.crosswalk",
    "integrations.flowtests",
    "integrations.reconcile",
    "integrations.gallery",
    "integrations.sandboxes",
    "integrations.demo",
    "studio",
    "studio.observability",  # /metrics and the tracer provider
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "studio.middleware.MachineRequestGuardMiddleware",  # oversized bodies, NUL in URLs: problem+json
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "studio.middleware.StudioLoginRequiredMiddleware",  # every page; machine paths exempt
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"

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
                "studio.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'switchboard.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers run beside the one writer,
    # IMMEDIATE transactions make writers queue instead of failing with "locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker, cache, cross-process throttling ------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery (runtime contract: docs/ARCHITECTURE.md#runtime-contract, docs/RELIABILITY.md §11) ---
BROKER_DIR = VAR_DIR / "broker"
# How long a message may sit unacknowledged before Redis hands it to another worker: above
# the lease and the task time limit (fault tests lower it to provoke redeliveries).
VISIBILITY_TIMEOUT = env.int("SWITCHBOARD_VISIBILITY_TIMEOUT", default=3600)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": VISIBILITY_TIMEOUT,
        # A Redis that is down or unreachable must not hold a web request that publishes: a
        # refused or silent broker fails fast and the row waits for the dispatcher.
        "socket_connect_timeout": env.float("SWITCHBOARD_BROKER_CONNECT_TIMEOUT", default=2.0),
        "socket_timeout": env.float("SWITCHBOARD_BROKER_SOCKET_TIMEOUT", default=5.0),
        # Lanes: control, interactive, deliveries, bulk, strictly in that order (studio/lane_transport.py).
        "queue_order_strategy": "studio.lane_transport:LaneCycle",
    }
else:
    for sub in ("queue", "processed"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        # Fanout/exchange tables; kombu's default is ./control in whatever the cwd is.
        "control_folder": str(BROKER_DIR / "control"),
        # How long the worker sleeps before looking at the folder again when it found nothing or
        # every pool process was busy: a freed process waits up to this long for its next
        # message (kombu's default, 1 s, held a worker to about two tasks a second). An idle
        # look is one directory listing.
        "polling_interval": env.float("SWITCHBOARD_BROKER_POLLING_INTERVAL", default=0.01),
    }
    # kombu's filesystem transport with lanes: one listing per poll, most urgent lane first.
    CELERY_BROKER_TRANSPORT = "studio.lane_transport:FilesystemTransport"
CELERY_RESULT_BACKEND = None
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": VISIBILITY_TIMEOUT}
CELERY_VISIBILITY_TIMEOUT = VISIBILITY_TIMEOUT
# Publishing is a doorbell: the database row is the truth and the dispatchers re-send what was
# not published. So one immediate retry (a pooled connection gone stale after a Redis
# restart) and no more: Celery's default (3 retries, 0.2 s apart) held every intake ~0.6 s
# while the broker was down.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0, "interval_max": 0}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_DISABLE_PREFETCH = bool(REDIS_URL)
CELERY_WORKER_POOL = "prefork"
CELERY_TASK_TIME_LIMIT = env.int("SWITCHBOARD_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 30
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "default"
# Celery's Django fixup closes the database connection before and after every task unless
# this is set; a task then pays a new PostgreSQL connection (~7 % of a worker's time in
# bench/pipeline.py). studio/celery.py applies Django's per-request rule instead:
# CONN_MAX_AGE, health checks, and a connection that saw an error is dropped.
CELERY_DB_REUSE_MAX = 1_000_000
# Delivery messages go to one queue per connection (integrations/deliveries/queues.py); every
# other message to its lane: control, interactive (`default`) or bulk (studio/lanes.py).
CELERY_TASK_ROUTES = ["integrations.deliveries.queues.route", "studio.lanes.route"]
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Periodic jobs (heartbeat, dispatcher, sweeper) are registered in code by each app's
# `periodic.py` and synced into django-celery-beat by `manage.py sync_schedules`.

# Lease on a claimed delivery/run: longer than the hard time limit, shorter than the
# broker's visibility timeout (docs/RELIABILITY.md §11.4).
SWITCHBOARD_LEASE_SECONDS = env.int("SWITCHBOARD_LEASE_SECONDS", default=600)
# Delivery ledger: backoff (exponential, full jitter) and re-enqueue of rows whose message was lost.
SWITCHBOARD_BACKOFF_BASE_SECONDS = env.float("SWITCHBOARD_BACKOFF_BASE_SECONDS", default=2.0)
SWITCHBOARD_BACKOFF_CAP_SECONDS = env.float("SWITCHBOARD_BACKOFF_CAP_SECONDS", default=600.0)
SWITCHBOARD_REDISPATCH_SECONDS = env.int("SWITCHBOARD_REDISPATCH_SECONDS", default=60)
# A worker's bookkeeping commits without waiting for the disk (integrations/durability.py);
# off = every commit waits, as in the web process.
SWITCHBOARD_WORKER_ASYNC_COMMIT = env.bool("SWITCHBOARD_WORKER_ASYNC_COMMIT", default=True)
# A new run rings only if no doorbell of its lane is waiting (integrations/runs/doorbell.py,
# docs/RELIABILITY.md §3); off = one message per ring, as before.
SWITCHBOARD_COALESCE_DOORBELLS = env.bool("SWITCHBOARD_COALESCE_DOORBELLS", default=True)
# A poll stops reading pages while its flow has this many unfinished runs, and carries on from
# its stored cursor when they drain (integrations/triggers/polls.py).
SWITCHBOARD_POLL_BACKLOG = env.int("SWITCHBOARD_POLL_BACKLOG", default=500)
# After an attempt whose outcome we never heard, against a target without an idempotent write
# (integrations/deliveries/transport.py): wait at least this long (or 3x the client timeout,
# or a connection's config.settle_seconds) before looking up; after this many such attempts
# the delivery is 'uncertain' for a person (a connection's config.max_unclear_attempts wins).
SWITCHBOARD_SETTLE_MIN_SECONDS = env.float("SWITCHBOARD_SETTLE_MIN_SECONDS", default=30.0)
SWITCHBOARD_MAX_UNCLEAR_ATTEMPTS = env.int("SWITCHBOARD_MAX_UNCLEAR_ATTEMPTS", default=3)
# Circuit breaker per connection (integrations/deliveries/circuit.py); a connection's
# config.circuit_threshold / circuit_cooldown_seconds / circuit_max_cooldown_seconds override.
SWITCHBOARD_CIRCUIT_THRESHOLD = env.int("SWITCHBOARD_CIRCUIT_THRESHOLD", default=5)  # 0 = off
SWITCHBOARD_CIRCUIT_COOLDOWN_SECONDS = env.float("SWITCHBOARD_CIRCUIT_COOLDOWN_SECONDS", default=30.0)
SWITCHBOARD_CIRCUIT_MAX_COOLDOWN_SECONDS = env.float("SWITCHBOARD_CIRCUIT_MAX_COOLDOWN_SECONDS", default=600.0)
# Token calls of POST /api/v1/flows/<key>/invoke are answered before Django's request cycle
# (studio/api/invoke_gateway.py); false sends them through the full stack like every request.
SWITCHBOARD_INVOKE_GATEWAY = env.bool("SWITCHBOARD_INVOKE_GATEWAY", default=True)
# Request bodies: JSON nested deeper than this is refused with 400 on every entry point
# (API, webhooks, invoke); larger than DATA_UPLOAD_MAX_MEMORY_SIZE (Django's, 2.5 MiB by
# default) is refused with 413 before it is read (studio/middleware.py).
SWITCHBOARD_JSON_MAX_DEPTH = env.int("SWITCHBOARD_JSON_MAX_DEPTH", default=64)
# What one analyst template may cost, on the workers and in the web process (invoke, test-run):
# output in characters, evaluation time per step in seconds, loop iterations per template, integer
# digits. Unset keeps the engine's default (integrations/engine/limits.py: 1 MiB, 2 s, 100,000, 4,300).
SWITCHBOARD_TEMPLATE_MAX_OUTPUT = env.int("SWITCHBOARD_TEMPLATE_MAX_OUTPUT", default=None)
SWITCHBOARD_TEMPLATE_MAX_SECONDS = env.float("SWITCHBOARD_TEMPLATE_MAX_SECONDS", default=None)
SWITCHBOARD_TEMPLATE_MAX_ITERATIONS = env.int("SWITCHBOARD_TEMPLATE_MAX_ITERATIONS", default=None)
SWITCHBOARD_TEMPLATE_MAX_INT_DIGITS = env.int("SWITCHBOARD_TEMPLATE_MAX_INT_DIGITS", default=None)

# --- Sandboxes ---------------------------------------------------------------------------
SWITCHBOARD_SANDBOXES_ENABLED = env.bool("SWITCHBOARD_SANDBOXES_ENABLED", default=not PRODUCTION)
# Where the app's own sandboxes are reached from workers; the outbound HTTP module exempts
# this origin (and only this one) from loopback/private-address blocking.
SWITCHBOARD_SANDBOX_ORIGIN = env.str(
    "SWITCHBOARD_SANDBOX_ORIGIN", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}"
)
# Other origins (scheme://host:port) outbound calls may reach on private/loopback addresses
# or plain http, e.g. an on-premises ERP. Empty by default: explicit configuration only.
SWITCHBOARD_ALLOW_PRIVATE_ORIGINS = env.list("SWITCHBOARD_ALLOW_PRIVATE_ORIGINS", default=[])
# Ports outbound https calls may use (origins above are exempt); widen only on purpose.
SWITCHBOARD_OUTBOUND_PORTS = env.list("SWITCHBOARD_OUTBOUND_PORTS", cast=int, default=[443])
# A target's response body larger than this is cut off as a permanent error (10 MiB).
SWITCHBOARD_MAX_RESPONSE_BYTES = env.int("SWITCHBOARD_MAX_RESPONSE_BYTES", default=10 * 1024 * 1024)
SWITCHBOARD_DEMO_PASSWORD = env.str("SWITCHBOARD_DEMO_PASSWORD", default="switchboard-demo")

# --- Observability (studio/observability/) ----------------------------------------------------
# /metrics answers only a request with `Authorization: Bearer <this token>` (401 otherwise);
# empty (the default) turns /metrics off: 404.
SWITCHBOARD_METRICS_TOKEN = env.str("SWITCHBOARD_METRICS_TOKEN", default="")
# Keys the trace ids derived from run ids (integrations/tracing.py); empty: derived from SECRET_KEY.
SWITCHBOARD_TRACE_NAMESPACE = env.str("SWITCHBOARD_TRACE_NAMESPACE", default="")
# Spans are exported only when OTEL_EXPORTER_OTLP_ENDPOINT is set (read by the OpenTelemetry SDK).

# --- Email (approval notifications) ------------------------------------------------------
# EMAIL_URL (smtp+tls://user:password@host:587, smtps://..., consolemail://) or the EMAIL_*
# variables one by one; the embedded default prints mail to the console.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=_email["EMAIL_BACKEND"])
EMAIL_HOST = env.str("EMAIL_HOST", default=_email["EMAIL_HOST"] or "localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=_email["EMAIL_PORT"] or 25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default=_email["EMAIL_HOST_USER"] or "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default=_email["EMAIL_HOST_PASSWORD"] or "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=_email.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=_email.get("EMAIL_USE_SSL", False))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # a slow mail server never holds a worker long
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Switchboard <switchboard@localhost>")
# Where people reach the studio (links in notifications, the URL HubSpot signs); empty means
# the app's own origin, SWITCHBOARD_SANDBOX_ORIGIN.
SWITCHBOARD_PUBLIC_URL = env.str("SWITCHBOARD_PUBLIC_URL", default="")

# --- Auth ----------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "integrations.accounts.authentication.TrackedTokenAuthentication",  # DRF token + last used
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "studio.api.errors.exception_handler",
    # JSON through studio/api/json_body.py (nesting bounded); forms as DRF's defaults.
    "DEFAULT_PARSER_CLASSES": [
        "studio.api.json_body.JSONBodyParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": (
        "Flows, runs, exceptions, approvals and events of the Switchboard integration studio.\n\n"
        "Errors are problem documents (application/problem+json). JSON bodies may nest at most "
        f"{SWITCHBOARD_JSON_MAX_DEPTH} levels (400 too-deep) and hold no NUL character (400 "
        "nul-character); a body over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB unless configured) is 413. "
        "A 403 names the capability it needs and the roles that have it."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `status`; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "FlowStatusEnum": "integrations.flows.choices.FlowStatus",
        "RunStatusEnum": "integrations.runs.choices.RunStatus",
        "StepStatusEnum": "integrations.runs.choices.StepStatus",
        "ExceptionStatusEnum": "integrations.runs.choices.ExceptionStatus",
        "JobStatusEnum": "integrations.runs.choices.JobStatus",
        "ApprovalStatusEnum": "integrations.approvals.choices.ApprovalStatus",
    },
}

# --- i18n, static ------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request until collectstatic made it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Security: production turns the secure defaults on ----------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PRODUCTION)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("SWITCHBOARD_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging: secrets never reach a log line (connectors redact before logging) ------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
