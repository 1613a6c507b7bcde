"""All settings, read from the environment in this one module.

EPIGRID_ENV             `production` makes secrets mandatory and turns off local conveniences.
EPIGRID_DATABASE_URL    e.g. postgres://user@127.0.0.1:5432/epigrid; default SQLite (WAL) in var/.
EPIGRID_SECRET_KEY      Django's signing key; generated into var/ outside production.
EPIGRID_DATA_KEY        root key for personal-data encryption and blind indexes; same rule.
EPIGRID_VAR_DIR         where local state lives (default ./var).
EPIGRID_ALLOWED_HOSTS   comma-separated.
EPIGRID_DEBUG           true/false.
EPIGRID_DB_CONN_MAX_AGE seconds a PostgreSQL connection is kept (default 60); EPIGRID_DB_POOL=true
                        uses psycopg's pool instead; EPIGRID_DB_HEALTH_CHECKS (default true).
EPIGRID_SSL_REDIRECT, EPIGRID_HSTS_SECONDS, EPIGRID_HSTS_SUBDOMAINS  HTTPS only (production).
EPIGRID_REPLICA_URL     a PostgreSQL streaming replica of the database; reads that may be seconds
                        stale (lists, exports) go there, writes never (lib/dbrouter.py).
EPIGRID_TASKS           `database` (default: the queue in the database, `epigrid worker`) or `rq`
                        (the queue on Redis at EPIGRID_REDIS_URL, RQ workers; same task code).
"""

import os
from pathlib import Path

import dj_database_url

from epigrid.lib.env import ConfigError, env_bool, env_int, env_list, env_str, local_secret

PACKAGE_DIR = Path(__file__).resolve().parent
ENV = env_str("EPIGRID_ENV", "local")
if ENV not in {"local", "production"}:
    raise ConfigError(f"EPIGRID_ENV must be 'local' or 'production', not {ENV!r}")
PRODUCTION = ENV == "production"
VAR_DIR = Path(env_str("EPIGRID_VAR_DIR", "var")).resolve()

SECRET_KEY = local_secret("EPIGRID_SECRET_KEY", VAR_DIR, production=PRODUCTION, nbytes=48)
DATA_KEY = local_secret("EPIGRID_DATA_KEY", VAR_DIR, production=PRODUCTION)
DEBUG = env_bool("EPIGRID_DEBUG", False)
ALLOWED_HOSTS = env_list(
    "EPIGRID_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env_list("EPIGRID_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_htmx",
    "axes",
    "django_tasks",
    "django_tasks_db",
    # ground
    "epigrid.accounts",
    "epigrid.regions",
    "epigrid.people",
    "epigrid.tasks",
    "epigrid.rules",
    "epigrid.healthcode",
    # fact producers
    "epigrid.units",
    "epigrid.declarations",
    "epigrid.testing",
    "epigrid.venues",
    # top
    "epigrid.web",
    "epigrid.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "epigrid.api.JsonErrorsMiddleware",
    "epigrid.web.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "epigrid.accounts.access.AccessMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "epigrid.urls"
WSGI_APPLICATION = "epigrid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "epigrid.web.context.navigation",
            ],
        },
    }
]


def _sqlite_options() -> dict:
    return {
        # WAL lets the web server read while the worker writes; IMMEDIATE avoids
        # "database is locked" on lock upgrades inside write transactions. A 256 MB page cache
        # per connection (used only as it fills): a province's list commit touches index pages
        # all over a file of gigabytes.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=10000; PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY;"
        ),
        "transaction_mode": "IMMEDIATE",
    }


def _database(url: str | None) -> dict:
    if url:
        config = dj_database_url.parse(url, conn_max_age=env_int("EPIGRID_DB_CONN_MAX_AGE", 60))
        if config["ENGINE"] == "django.db.backends.postgresql":
            # A SELECT 1 before each request's first query, so a connection the server dropped is
            # replaced instead of failing the request that meets it. Turning it off saves that
            # round trip: about 0.5 ms of latency per request here, no throughput under load.
            config["CONN_HEALTH_CHECKS"] = env_bool("EPIGRID_DB_HEALTH_CHECKS", True)
            config.setdefault("OPTIONS", {})
            if env_bool("EPIGRID_DB_POOL", False):
                config["OPTIONS"]["pool"] = True
                config["CONN_MAX_AGE"] = 0
        if config["ENGINE"] == "django.db.backends.sqlite3":
            # a SQLite file named by URL is run as the default one is (a file without WAL made
            # every commit of a worker wait for the web server's readers, and the reverse)
            config["OPTIONS"] = {**_sqlite_options(), **config.get("OPTIONS", {})}
        return config
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "epigrid.sqlite3",
        "OPTIONS": _sqlite_options(),
        # A file, not :memory:, so browser tests share it across threads and tests can read
        # the raw file to prove no identifier is stored in plaintext.
        # (one file per process, so concurrent test runs never share one)
        "TEST": {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")},
    }


DATABASES = {"default": _database(env_str("EPIGRID_DATABASE_URL"))}
_replica_url = env_str("EPIGRID_REPLICA_URL")
if _replica_url:
    DATABASES["replica"] = _database(_replica_url)
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        raise ConfigError("EPIGRID_REPLICA_URL must name a PostgreSQL streaming replica")
    # Tests run against the primary's test database through this alias; the replica tests
    # point it at the real replica themselves (tests/lib/test_replica.py).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["epigrid.lib.dbrouter.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout (accounts/lockout.py): five wrong passwords for one username from one address lock
# that username at that address for 15 minutes, so one user's typos behind an office NAT lock
# no one else; twenty for one username from any addresses lock the username, so a guess spread
# over many addresses still stops.
AXES_FAILURE_LIMIT = env_int("EPIGRID_LOGIN_FAILURE_LIMIT", 5)
EPIGRID_LOGIN_USER_FAILURE_LIMIT = env_int("EPIGRID_LOGIN_USER_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = "epigrid.accounts.lockout.lockout_parameters"
# the login URL's `next` holds the page asked for, with its query (a searched phone number):
# masked in axes' records like the username and address
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "next"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
# In production only HTTPS: plain HTTP is redirected (but /healthz, which the load balancer asks
# over the inside network) and browsers are told for a year to come back only over HTTPS.
# Subdomains are left out unless EPIGRID_HSTS_SUBDOMAINS says so: they may be other services.
SECURE_SSL_REDIRECT = env_bool("EPIGRID_SSL_REDIRECT", PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("EPIGRID_HSTS_SECONDS", 365 * 24 * 3600 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("EPIGRID_HSTS_SUBDOMAINS", False)
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp) on every response: scripts, styles, images, fonts and
# connections from this origin only; no inline script, no eval (htmx is configured in base.html
# to need neither, nor an inline <style>); no plugin, no framing, forms post only here. Style
# *attributes* are allowed (`style-src-attr`): templates set a progress bar's width or a colour
# badge from data that way; a style attribute runs no script and selects nothing, where an inline
# <style> element (still refused) could.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "media"},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production whitenoise serves straight from the apps, so the demo needs no collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_AUTOREFRESH = DEBUG

_redis = env_str("EPIGRID_REDIS_URL")
TASK_QUEUE = env_str("EPIGRID_TASKS", "database")
if TASK_QUEUE == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif TASK_QUEUE == "rq":
    if not _redis:
        raise ConfigError("EPIGRID_TASKS=rq needs EPIGRID_REDIS_URL (the Redis the RQ workers share)")
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    # A bulk shard runs for minutes at a province's size: RQ's default of 3 minutes would
    # kill it mid-batch (the batch rolls back and the run resumes, but never finishes).
    RQ_QUEUES = {"default": {"URL": _redis, "DEFAULT_TIMEOUT": env_int("EPIGRID_RQ_JOB_TIMEOUT", 6 * 3600)}}
else:
    raise ConfigError(f"EPIGRID_TASKS must be 'database' or 'rq', not {TASK_QUEUE!r}")

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "epigrid"}}
if _redis:
    CACHES["default"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis}

NINJA_PAGINATION_PER_PAGE = 50
# Public pages (declaration, tips, status links) are rate-limited per address; over the limit
# the person gets a 429 page. Limits are counted in the cache: set EPIGRID_REDIS_URL when
# several web processes must share them.
RATELIMIT_VIEW = "epigrid.web.views.ratelimited"
RATELIMIT_ENABLE = env_bool("EPIGRID_RATELIMIT", True)
NINJA_NUM_PROXIES = env_int("EPIGRID_NUM_PROXIES", 0)

# Logs carry ids and codes, never names, ID numbers or phones: the formatter has no access to
# request bodies and our own log calls pass only opaque ids.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("EPIGRID_LOG_LEVEL", "INFO")},
    "loggers": {
        # request logs would carry query strings, which may hold a searched phone number
        "django.server": {"handlers": [], "level": "ERROR", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# epigrid's own knobs
# Bulk reassessment splits the population across this many worker processes (PostgreSQL).
EPIGRID_BULK_SHARDS = env_int("EPIGRID_BULK_SHARDS", 1)
# A long job (pushed-list commit, results import, bulk-run shard) whose heartbeat is older than
# this is taken to have lost its worker: `epigrid worker` queues it again and its page offers
# "resume". Longer than the slowest batch (a batch of 5,000 takes seconds).
EPIGRID_JOB_STALE_SECONDS = env_int("EPIGRID_JOB_STALE_SECONDS", 600)
# The health code: this deployment's issuer id in tokens (other provinces trust it by this
# name), how long a token is valid, and how long a checkpoint's API token is remembered by the
# verification route (revocation takes effect within this time there).
EPIGRID_HEALTHCODE_ISSUER = env_str("EPIGRID_HEALTHCODE_ISSUER", "CN-32")
EPIGRID_HEALTHCODE_TTL_SECONDS = env_int("EPIGRID_HEALTHCODE_TTL_SECONDS", 300)
EPIGRID_HEALTHCODE_AUTH_CACHE_SECONDS = env_int("EPIGRID_HEALTHCODE_AUTH_CACHE_SECONDS", 30)
# What an uploaded table may hold (lib.tables): every upload (pushed lists, lab results, risk
# areas) narrows these further, never widens them. EPIGRID_TABLE_MAX_UNPACKED bounds what an
# XLSX inflates to, EPIGRID_TABLE_MAX_CELLS the cells of a sheet and the box around them, which
# calamine holds at 32 bytes a cell while a file is read.
EPIGRID_TABLE_LIMITS = {
    "max_bytes": env_int("EPIGRID_TABLE_MAX_BYTES", 64 * 1024 * 1024),
    "max_unpacked": env_int("EPIGRID_TABLE_MAX_UNPACKED", 256 * 1024 * 1024),
    "max_parts": env_int("EPIGRID_TABLE_MAX_PARTS", 1000),
    "max_rows": env_int("EPIGRID_TABLE_MAX_ROWS", 300_000),
    "max_columns": env_int("EPIGRID_TABLE_MAX_COLUMNS", 200),
    "max_cells": env_int("EPIGRID_TABLE_MAX_CELLS", 8_000_000),
}
# venue entries and checkpoint passes are kept this many days, then deleted (R5, privacy)
EPIGRID_SCAN_RETENTION_DAYS = env_int("EPIGRID_SCAN_RETENTION_DAYS", 28)
EPIGRID_DEMO_CITY = "320583"  # 昆山市: the demo city the simulator builds below county level
EPIGRID_PAGE_SIZE = 50
