"""Configuration: where the database is and how Django is set up for it.

Kept free of Django imports so that resolving settings costs nothing at start-up.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

KITH_APPS = ["kith.core", "kith.records", "kith.relationships", "kith.interactions"]


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
            "TEST": {"NAME": None},
        }
    if url.split(":", 1)[0] in {"postgres", "postgresql", "pgsql", "postgis"}:
        import dj_database_url

        cfg = dict(dj_database_url.parse(url, conn_max_age=0))
        cfg["ENGINE"] = "django.db.backends.postgresql"
        return cfg
    raise KithError(
        f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://USER@HOST/DB"
    )


def django_settings(url: str) -> dict[str, Any]:
    """Return the full Django settings for a Kith workspace on ``url``."""
    return {
        "DEBUG": False,
        "SECRET_KEY": os.environ.get("KITH_SECRET_KEY", "kith-local-only-not-secret"),
        "INSTALLED_APPS": list(KITH_APPS),
        "DATABASES": {"default": database_settings(url)},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "LOGGING_CONFIG": None,
        "MIGRATION_MODULES": {},
    }
