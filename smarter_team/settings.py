"""Settings for Smarter Team, read from the environment (or a `.env` file) through django-environ.

Three environments, chosen by ``DJANGO_ENV``:
- ``development`` (default): DEBUG on, SQLite, embedded broker, heuristic brain, sandbox providers.
- ``test``: what pytest uses; DEBUG off, but a generated secret key is allowed.
- ``production``: DEBUG off, a real ``DJANGO_SECRET_KEY`` is required and the deploy checks pass.
Every variable is listed with a comment in ``.env.example``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# What this machine keeps between runs: the embedded database and broker, the demo's clock and
# login, the dev secret key, archives. Elsewhere than the checkout for a second agency beside it.
VAR_DIR = Path(env.str("VAR_DIR", default="") or BASE_DIR / "var")

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"
DEBUG = env.bool("DJANGO_DEBUG", default=DJANGO_ENV == "development")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off when DJANGO_ENV=production")


def _dev_secret_key() -> str:
    # Kept in a file so the web server and the workers of one dev machine agree on it
    # and sessions survive a restart; never used outside development and tests.
    path = VAR_DIR / "dev-secret-key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or DJANGO_ENV == "test"):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required outside development and tests")
    SECRET_KEY = _dev_secret_key()

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

DJANGO_APPS = [
    "smarter_team.apps.ConsoleAdminConfig",  # django.contrib.admin with the console's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = ["django_celery_beat", "ninja"]
LOCAL_APPS = [
    "smarter_team.apps.SmarterTeamConfig",
    "agents.apps.AgentsConfig",
    "crm.apps.CrmConfig",
    "sales.apps.SalesConfig",
    "delivery.apps.DeliveryConfig",
    "learning.apps.LearningConfig",
    "integrations.apps.IntegrationsConfig",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "smarter_team.urls"
WSGI_APPLICATION = "smarter_team.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "smarter_team" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- Database -------------------------------------------------------------------------------
# SQLite by default so the agency runs with no services; PostgreSQL (psycopg 3) in production
# and in the tests. SQLite gets WAL, a busy timeout and IMMEDIATE transactions so that the web
# server, the worker and beat can write concurrently without "database is locked".
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'smarter_team.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The runtime's claim and outcome and the webhook INSERT run as prepared statements (smarter_team.db),
# and on PostgreSQL every statement a connection runs five times (smarter_team/postgresql).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with server-side parameter binding and its 65,535-value limit (smarter_team/postgresql).
    DATABASES["default"]["ENGINE"] = "smarter_team.postgresql"
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.setdefault("server_side_binding", env.bool("DATABASE_SERVER_SIDE_BINDING", default=True))
    _options.setdefault("prepare_threshold", 5 if DATABASE_PREPARED_STATEMENTS else None)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
# The console's covering indexes (INCLUDE columns) are a PostgreSQL feature; SQLite builds them
# without the extra columns, which is what the embedded default wants, so its warning is noise.
SILENCED_SYSTEM_CHECKS = ["models.W040"] if USING_SQLITE else []

# --- Redis, cache, broker -------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# The namespace of the state workers share in Redis (OAuth tokens, rate-limit buckets, breakers), so
# two deployments on one Redis never spend each other's tokens or open each other's circuits.
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="st")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The embedded broker is kombu's filesystem transport: worker and beat exchange messages through
# a folder, so the agency runs with no server at all. Redis (or any Celery broker) in production.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    # kombu's filesystem transport with atomic writes (a worker could read a half-written message).
    CELERY_BROKER_TRANSPORT = "smarter_team.fsbroker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        # kombu polls the folder; with acks_late and a prefetch of one, a worker that has all its
        # slots busy waits a whole interval (1 s by default) before taking the next message, which
        # capped the demo at two runs a second. A directory listing every 0.1 s costs nothing.
        "polling_interval": 0.1,
    }
else:
    # Redis redelivers an unacked message after the visibility timeout; it must exceed the
    # longest task so a slow run is not executed twice (the outbox makes that safe anyway).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_TASK_DEFAULT_QUEUE = "system"
# django-celery-beat's, creating agents' scheduled runs itself so a broker outage drops no tick.
CELERY_BEAT_SCHEDULER = "smarter_team.beat:Scheduler"
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Time, language -------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
# The console's dates: "2026-12-05 08:29" (smarter_team/formats/en/formats.py).
FORMAT_MODULE_PATH = ["smarter_team.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The project clock (smarter_team.clock) can run faster than the wall clock so the sandbox
# world lives a month in minutes. 1.0 = real time.
CLOCK_SPEED = env.float("CLOCK_SPEED", default=1.0)
CLOCK_EPOCH = env.str("CLOCK_EPOCH", default="")
# The demo: when no run is queued or running and no act is pending, business time jumps to the
# next due work (a queued run, a sandbox event, a schedule's next tick) instead of waiting for it.
CLOCK_SKIP_IDLE = env.bool("CLOCK_SKIP_IDLE", default=False)

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Smarter Team <agency@localhost>")
MANAGERS_EMAILS = env.list("MANAGERS_EMAILS", default=[])

# --- Agency policy --------------------------------------------------------------------------
AGENCY_NAME = env.str("AGENCY_NAME", default="Smarter Team")
# Where people reach us from outside (unsubscribe links in emails): https in production (RFC 8058
# requires an https List-Unsubscribe URL for one-click); `manage.py check --deploy` refuses http.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
AGENCY_POSTAL_ADDRESS = env.str("AGENCY_POSTAL_ADDRESS", default="1 Example Street, Springfield, USA")
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="USD")
# Largest request body the webhook endpoint accepts; larger bodies get 413.
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=1_048_576)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(WEBHOOK_MAX_BODY_BYTES * 2, 2_621_440)

# --- Delivery planning ----------------------------------------------------------------------
# A line item not priced by the hour stands for its amount over this blended rate in hours of work
# (Clutch lists most AI development agencies at $100-199 an hour); change requests are priced at it
# when the rate card has no hourly service.
DELIVERY_BLENDED_HOURLY_RATE = env.str("DELIVERY_BLENDED_HOURLY_RATE", default="150")
# The pace a plan assumes for one project: hours of work a week (about one person's focused week).
DELIVERY_PROJECT_HOURS_PER_WEEK = env.int("DELIVERY_PROJECT_HOURS_PER_WEEK", default=30)
# The delivery team's capacity in hours a week, and how many weeks ahead resource_planning looks.
DELIVERY_TEAM_HOURS_PER_WEEK = env.int("DELIVERY_TEAM_HOURS_PER_WEEK", default=120)
DELIVERY_PLANNING_HORIZON_WEEKS = env.int("DELIVERY_PLANNING_HORIZON_WEEKS", default=4)

# --- Brains ---------------------------------------------------------------------------------
ANTHROPIC_API_KEY = env.str("ANTHROPIC_API_KEY", default="")
ANTHROPIC_MODEL = env.str("ANTHROPIC_MODEL", default="claude-sonnet-5")
# "anthropic" when a key is set, otherwise the agents' deterministic heuristics.
BRAIN_DEFAULT = env.str("BRAIN_DEFAULT", default="anthropic" if ANTHROPIC_API_KEY else "heuristic")

# --- Integrations ---------------------------------------------------------------------------
# One entry per provider key; empty means "not configured", and the role falls back to the
# sandbox world. The integrations app reads these through django.conf.settings only.
INTEGRATION_KEYS = {
    name: env.str(name, default="")
    for name in (
        "PERPLEXITY_API_KEY",
        "FIRECRAWL_API_KEY",
        "ELEVENLABS_API_KEY",
        "RETELL_API_KEY",
        "INSTANTLY_API_KEY",
        "INSTANTLY_WEBHOOK_SECRET",
        "ICYPEAS_API_KEY",
        "FINDYMAIL_API_KEY",
        "APIFY_API_TOKEN",
        "APIFY_WEBHOOK_SECRET",
        "GOHIGHLEVEL_API_KEY",
        "GOHIGHLEVEL_LOCATION_ID",
        "NOTION_API_KEY",
        "NOTION_PARENT_PAGE_ID",
        "AIRTABLE_API_KEY",
        "AIRTABLE_BASE_ID",
        "CLICKUP_API_KEY",
        "CLICKUP_LIST_ID",
        "CALCOM_API_KEY",
        "CALCOM_WEBHOOK_SECRET",
        "GOOGLE_CLIENT_ID",
        "GOOGLE_CLIENT_SECRET",
        "GOOGLE_REFRESH_TOKEN",
        "STRIPE_API_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "QUICKBOOKS_CLIENT_ID",
        "QUICKBOOKS_CLIENT_SECRET",
        "QUICKBOOKS_REFRESH_TOKEN",
        "QUICKBOOKS_REALM_ID",
        "PANDADOC_API_KEY",
        "PANDADOC_WEBHOOK_SECRET",
        "FATHOM_API_KEY",
        "FATHOM_WEBHOOK_SECRET",
        "PINECONE_API_KEY",
        "PINECONE_INDEX",
        "ZEP_API_KEY",
    )
}
# Explicit provider per role, e.g. PROVIDER_OUTREACH=instantly; unset = first configured real
# provider for the role, else "sandbox".
PROVIDER_OVERRIDES = {
    role: env.str(f"PROVIDER_{role.upper()}", default="")
    for role in (
        "lead_source",
        "email_finder",
        "email_verifier",
        "outreach",
        "calendar",
        "recorder",
        "documents",
        "payments",
        "accounting",
        "project_tool",
        "web_research",
        "vector_store",
        "memory",
        "voice",
    )
}
SANDBOX_SEED = env.int("SANDBOX_SEED", default=42)

# --- Lead generation (crm) --------------------------------------------------------------------
# New leads lead_list_builder may import per ICP and business day (a search asks for no more).
LEAD_LIST_DAILY_QUOTA = env.int("LEAD_LIST_DAILY_QUOTA", default=25)
# MX lookups: "auto" = the sandbox world while the verifier role is the sandbox, else real DNS.
EMAIL_MX_RESOLVER = env.str("EMAIL_MX_RESOLVER", default="auto")
# What one email-finder lookup costs, per provider, in DEFAULT_CURRENCY (vendors bill per credit;
# the HTTP client's ApiUsage rows carry the run, this the price).
EMAIL_FINDER_COSTS = {"icypeas": "0.010", "findymail": "0.020", "sandbox": "0"}
HTTP_TIMEOUT_SECONDS = env.float("HTTP_TIMEOUT_SECONDS", default=20.0)

# --- Learning (owned by learning/) ------------------------------------------------------------
# A fingerprint seen this many times (3-5) within the window becomes a proposed KnowledgeRule.
LEARNING_MIN_OCCURRENCES = min(5, max(3, env.int("LEARNING_MIN_OCCURRENCES", default=3)))
LEARNING_WINDOW_HOURS = env.int("LEARNING_WINDOW_HOURS", default=24)
# Share of eligible runs where an active rule is deliberately not applied, to measure its lift.
LEARNING_HOLDOUT_RATE = env.float("LEARNING_HOLDOUT_RATE", default=0.10)
# A skipping rule is retired only when its precision's whole 95% interval is below the floor, and
# only after this many held-out runs (never on a point estimate re-tossed at every refresh).
LEARNING_MIN_HOLDOUT = env.int("LEARNING_MIN_HOLDOUT", default=20)
LEARNING_MIN_PRECISION = env.float("LEARNING_MIN_PRECISION", default=0.5)
# Rule types that go live without an operator (comma list, e.g. "retry"); blank: every rule waits for approval.
LEARNING_AUTO_APPROVE_TYPES = env.str("LEARNING_AUTO_APPROVE_TYPES", default="")
# Error spikes: failures in the last window vs the per-window baseline of the previous day.
LEARNING_SPIKE_WINDOW_MINUTES = env.int("LEARNING_SPIKE_WINDOW_MINUTES", default=15)
LEARNING_SPIKE_MIN_ERRORS = env.int("LEARNING_SPIKE_MIN_ERRORS", default=5)
LEARNING_SPIKE_FACTOR = env.float("LEARNING_SPIKE_FACTOR", default=3.0)
# Dimension of the local hashed FAQ embedding (no model download).
LEARNING_EMBEDDING_DIM = env.int("LEARNING_EMBEDDING_DIM", default=512)

# --- Webhooks / sandbox -----------------------------------------------------------------------
# POST /api/webhooks/{provider} (integrations/webhooks). Signed requests older or newer than the
# tolerance are refused (replay protection); stored events still "received" after
# WEBHOOK_REPLAY_AFTER_MINUTES, or "failed" with fewer than WEBHOOK_MAX_ATTEMPTS attempts, are
# replayed by the sweeper task integrations.webhooks.replay_unprocessed.
WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS = env.int("WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS", default=300)
WEBHOOK_REPLAY_AFTER_MINUTES = env.int("WEBHOOK_REPLAY_AFTER_MINUTES", default=10)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=5)
# Rejected (unsigned) requests stored per source address and minute; past it they are only logged.
WEBHOOK_REJECTED_PER_MINUTE = env.int("WEBHOOK_REJECTED_PER_MINUTE", default=30)
# Bearer tokens of the non-webhook API, as lower-case sha256 hex digests (the token itself is
# never stored): python -c "import hashlib,sys;print(hashlib.sha256(sys.argv[1].encode()).hexdigest())" TOKEN
API_TOKEN_SHA256 = [h.strip().lower() for h in env.list("API_TOKEN_SHA256", default=[]) if h.strip()]
# The sandbox world signs its webhooks like the vendors do and posts them to the real endpoint.
# When a provider's real webhook secret is unset, both sides use a sandbox secret derived from
# SECRET_KEY (so web and worker agree, and nobody can guess it from the code); off in production
# unless asked for, so there an unconfigured provider refuses every event.
SANDBOX_WEBHOOKS = env.bool("SANDBOX_WEBHOOKS", default=not PRODUCTION)


def _sandbox_webhook_secret(provider: str) -> str:
    import base64
    import hashlib
    import hmac

    digest = hmac.new(SECRET_KEY.encode(), f"sandbox-webhook:{provider}".encode(), hashlib.sha256).digest()
    # Fathom signs the Standard Webhooks way, whose secrets are "whsec_" + base64 of the key.
    return "whsec_" + base64.b64encode(digest).decode() if provider == "fathom" else digest.hex()


SANDBOX_WEBHOOK_SECRETS = {
    provider: _sandbox_webhook_secret(provider)
    for provider in ("stripe", "fathom", "calcom", "pandadoc", "instantly", "apify")
}
# Where the sandbox posts its webhooks: empty = in-process through Django's test client (the
# full middleware + URL + view path, no server needed); a base URL such as http://127.0.0.1:8000
# = over HTTP with httpx to a running server. Loopback addresses only.
SANDBOX_WEBHOOK_URL = env.str("SANDBOX_WEBHOOK_URL", default="")
# How many due sandbox events one beat tick delivers.
SANDBOX_DELIVERY_BATCH = env.int("SANDBOX_DELIVERY_BATCH", default=200)

# --- Housekeeping (database_manager, escalation_manager, health_check) -------------------------
# Ages (days, business time) past which finished rows are exported to ARCHIVE_DIR and deleted.
# Webhook events, actions and sandbox events are kept at least 30 days whatever is set here: their
# keys make redeliveries and retries exactly-once.
RETENTION_RUNS_DAYS = env.int("RETENTION_RUNS_DAYS", default=90)
RETENTION_ACTIONS_DAYS = env.int("RETENTION_ACTIONS_DAYS", default=90)
RETENTION_WEBHOOKS_DAYS = env.int("RETENTION_WEBHOOKS_DAYS", default=60)
RETENTION_SANDBOX_DAYS = env.int("RETENTION_SANDBOX_DAYS", default=30)
RETENTION_HEALTH_DAYS = env.int("RETENTION_HEALTH_DAYS", default=14)
# A former prospect untouched this long is erased (the address survives only as a suppression hash).
RETENTION_PROSPECT_DAYS = env.int("RETENTION_PROSPECT_DAYS", default=730)
# Rows per table and round: each round's transaction stays short.
RETENTION_BATCH = env.int("RETENTION_BATCH", default=1000)
ARCHIVE_DIR = Path(env.str("ARCHIVE_DIR", default="") or VAR_DIR / "archive")
# compliance_audit: an opt-out must be a suppression entry within this many minutes (CAN-SPAM allows
# ten business days; we honour at once and allow the processing lag), and a prospect due for erasure
# may wait this many days for database_manager before it is a breach.
COMPLIANCE_OPT_OUT_DELAY_MINUTES = env.int("COMPLIANCE_OPT_OUT_DELAY_MINUTES", default=15)
COMPLIANCE_RETENTION_GRACE_DAYS = env.int("COMPLIANCE_RETENTION_GRACE_DAYS", default=3)
# Open escalations: the group is reminded after this many hours; undecided ones expire after this.
ESCALATION_REMIND_HOURS = env.float("ESCALATION_REMIND_HOURS", default=4.0)
ESCALATION_EXPIRE_HOURS = env.float("ESCALATION_EXPIRE_HOURS", default=72.0)
# Beat is reported down when its last heartbeat is older than this (wall seconds).
HEALTH_BEAT_STALE_SECONDS = env.int("HEALTH_BEAT_STALE_SECONDS", default=180)

# --- Security -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "smarter_team.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
