"""Configuration: where the database is and how Django is set up for it.

Kept free of Django imports so that resolving settings costs nothing at start-up.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

VERSION = "0.1.0"  # kith.__version__; written into backups

KITH_APPS = [
    "kith.core",
    "kith.records",
    "kith.relationships",
    "kith.interactions",
    "kith.dedupe",
    "kith.imports",
    "kith.accounts",
    "kith.webhooks",
    "kith.intelligence",
    "kith.network",
    "kith.notifications",
    "kith.lists",
    "kith.rules",
    "kith.tasks",
    "kith.plans",
    "kith.briefs",
    "kith.surveys",
    "kith.capture",
    "kith.pipelines",
    "kith.web",
]
# Django's own apps that Kith's users, sessions and permissions stand on (cheap to load).
DJANGO_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"]
# Django's Tasks API (the django-tasks backport) and its database backend: the job queue.
TASK_APPS = ["django_tasks", "django_tasks_db"]


def data_dir() -> Path:
    """Return the directory for Kith's own files (``KITH_HOME`` or the user data dir)."""
    if home := os.environ.get("KITH_HOME"):
        return Path(home)
    from platformdirs import user_data_dir

    return Path(user_data_dir("kith", appauthor=False))


def default_db_url() -> str:
    """Return the embedded default database: a SQLite file in the data directory."""
    return f"sqlite:///{data_dir() / 'kith.db'}"


def resolve_db_url(explicit: str | None = None) -> str:
    """Pick the database: an explicit URL, else ``KITH_DB``, else the default file."""
    return explicit or os.environ.get("KITH_DB") or default_db_url()


def database_settings(url: str) -> dict[str, Any]:
    """Translate a database URL into Django's DATABASES entry, tuned per backend."""
    from kith.core.errors import KithError

    if url.startswith("sqlite:///") or url == "sqlite://:memory:" or url == "sqlite://":
        name = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ":memory:"
        if name and name != ":memory:":
            Path(name).expanduser().parent.mkdir(parents=True, exist_ok=True)
            name = str(Path(name).expanduser())
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name or ":memory:",
            "OPTIONS": {
                # WAL lets readers work beside a writer; IMMEDIATE takes the write lock
                # at BEGIN so concurrent writers queue (busy timeout) instead of failing.
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;PRAGMA temp_store=MEMORY;"
                    "PRAGMA cache_size=-65536;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            # Tests use a file beside the database, not shared-cache memory: in shared-cache
            # mode SQLite fails a second writer at once ("database table is locked")
            # instead of letting it wait its busy timeout, as a real file does.
            "TEST": {"NAME": f"{name}.test" if name != ":memory:" else None},
        }
    if url.split(":", 1)[0] in {"postgres", "postgresql", "pgsql", "postgis"}:
        import dj_database_url

        cfg = dict(dj_database_url.parse(url, conn_max_age=0))
        cfg["ENGINE"] = "django.db.backends.postgresql"
        return cfg
    raise KithError(
        f"unsupported database URL {masked_url(url)!r}: use sqlite:///PATH or "
        "postgresql://USER@HOST/DB"
    )


def masked_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, fit to be shown or logged."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # unparseable: hide everything between :// and @
        head, sep, tail = url.partition("://")
        return f"{head}{sep}***@{tail.rsplit('@', 1)[-1]}" if "@" in tail else url
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    return [v.strip() for v in raw.split(",") if v.strip()] if raw else default


def server_settings() -> dict[str, Any]:
    """What the HTTP server needs beyond the library: plain values, nothing imported."""
    settings: dict[str, Any] = {
        "ROOT_URLCONF": "kith.server.urls",
        "WSGI_APPLICATION": "kith.server.wsgi.application",
        "MIDDLEWARE": [
            "kith.server.middleware.SecureCookiesOverHttps",
            "kith.server.middleware.ClientAddress",
            "django.middleware.security.SecurityMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            "kith.web.middleware.ContentSecurityPolicy",
            "kith.web.middleware.DatabaseTrouble",
        ],
        "LOGIN_URL": "/login",
        "CSRF_FAILURE_VIEW": "kith.web.views.errors.csrf_failure",
        "MESSAGE_STORAGE": "django.contrib.messages.storage.session.SessionStorage",
        # uploads above this go to a temporary file instead of memory
        "FILE_UPLOAD_MAX_MEMORY_SIZE": 5 * 1024 * 1024,
        # ... in Kith's private scratch folder in the data directory, not the shared /tmp
        "FILE_UPLOAD_HANDLERS": [
            "django.core.files.uploadhandler.MemoryFileUploadHandler",
            "kith.server.uploads.ScratchUploadHandler",
        ],
        "DATA_UPLOAD_MAX_NUMBER_FIELDS": 5000,
        "PASSWORD_HASHERS": [
            "django.contrib.auth.hashers.Argon2PasswordHasher",
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        ],
        # the Host names Kith answers to: loopback unless configured (kith serve adds the
        # address it binds to); a request for any other name is refused (400)
        "ALLOWED_HOSTS": _env_list("KITH_ALLOWED_HOSTS", list(LOOPBACK_HOSTS)),
        "CSRF_TRUSTED_ORIGINS": _env_list("KITH_CSRF_TRUSTED_ORIGINS", []),
        "SESSION_ENGINE": "django.contrib.sessions.backends.db",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_AGE": 14 * 24 * 3600,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "STATIC_URL": "/static/",
        "WHITENOISE_USE_FINDERS": True,
        "WHITENOISE_AUTOREFRESH": False,
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.jinja2.Jinja2",
                "DIRS": [str(Path(__file__).parent / "web" / "templates")],
                "APP_DIRS": False,
                "OPTIONS": {"environment": "kith.web.jinja.environment", "autoescape": True},
            },
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
            },
        ],
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        # sent on HTTPS responses only (plain-HTTP loopback use is unaffected)
        "SECURE_HSTS_SECONDS": int(os.environ.get("KITH_HSTS_SECONDS", "31536000")),
    }
    if os.environ.get("KITH_BEHIND_PROXY"):
        settings["SECURE_PROXY_SSL_HEADER"] = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


def django_settings(url: str, *, server: bool = False) -> dict[str, Any]:
    """Return the full Django settings for a Kith workspace on ``url``.

    ``server=True`` adds the web apps (static files, the API's templates); the CLI
    leaves them out to start faster. Models and migrations are the same either way.
    """
    apps = [*DJANGO_APPS, *TASK_APPS, *KITH_APPS]
    if server:
        apps = ["django.contrib.staticfiles", "django.contrib.messages", "ninja", *apps]
    return {
        "DEBUG": False,
        "SECRET_KEY": os.environ.get("KITH_SECRET_KEY", "kith-local-only-not-secret"),
        "INSTALLED_APPS": apps,
        "DATABASES": {"default": database_settings(url)},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "LOGGING_CONFIG": None,
        "MIGRATION_MODULES": {},
        # the durable job queue (kith.core.jobs; `kith worker` runs it)
        "TASKS": {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
        **server_settings(),
    }
