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
    # top
    "epigrid.web",
    "epigrid.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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


def _database() -> dict:
    url = env_str("EPIGRID_DATABASE_URL")
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


DATABASES = {"default": _database()}
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

# Lockout: five wrong passwords for one username, or from one address, lock it for 15 minutes;
# by username so a distributed guess is stopped, by address so one host cannot spray accounts.
AXES_FAILURE_LIMIT = env_int("EPIGRID_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
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

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "epigrid"}}
_redis = env_str("EPIGRID_REDIS_URL")
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
EPIGRID_DEMO_CITY = "320583"  # 昆山市: the demo city the simulator builds below county level
EPIGRID_PAGE_SIZE = 50
