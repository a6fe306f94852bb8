"""Bring Django up on a workspace database and keep its schema current."""

from __future__ import annotations

from pathlib import Path

from kith.conf import KITH_APPS, django_settings, masked_url, resolve_db_url
from kith.core.errors import KithError

_configured_url: str | None = None


def setup(url: str | None = None) -> str:
    """Configure Django for ``url`` (once per process) and migrate if needed."""
    global _configured_url
    import django
    from django.conf import settings

    url = resolve_db_url(url)
    if settings.configured:
        if _configured_url is not None and url != _configured_url:
            raise KithError(
                f"this process already has Kith open on {masked_url(_configured_url)}; "
                f"open {masked_url(url)} from another process"
            )
        if _configured_url is None:  # configured by a settings module (tests, server)
            django.setup()
        return url
    settings.configure(**django_settings(url))
    _populate()
    _configured_url = url
    ensure_schema()
    return url


def _populate() -> None:
    """Load the apps; like ``django.setup()`` without URL and logging set-up (start-up time)."""
    from django.apps import apps
    from django.conf import settings

    apps.populate(settings.INSTALLED_APPS)


def _expected_migrations() -> set[tuple[str, str]]:
    root = Path(__file__).parent
    expected = set()
    for app in KITH_APPS:
        label = app.rsplit(".", 1)[-1]
        folder = root / label / "migrations"
        for f in folder.glob("[0-9]*.py"):
            expected.add((label, f.stem))
    import importlib.util

    # third-party apps with tables of their own: the job queue (module, app label)
    for module, label in (("django_tasks_db", "django_tasks_database"),):
        spec = importlib.util.find_spec(f"{module}.migrations")
        for folder_name in (spec.submodule_search_locations or []) if spec else []:
            for f in Path(folder_name).glob("[0-9]*.py"):
                expected.add((label, f.stem))
    return expected


def ensure_schema() -> None:
    """Apply pending migrations; a cheap check when there are none."""
    from django.core.management import call_command
    from django.db import DatabaseError, connection

    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        cfg = connection.settings_dict
        where = (
            f"{connection.vendor} {cfg.get('USER') or ''}@{cfg.get('HOST') or 'localhost'}"
            f":{cfg.get('PORT') or 5432}/{cfg.get('NAME')}"
            if connection.vendor == "postgresql"
            else f"{connection.vendor} {cfg.get('NAME')}"
        )
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise KithError(f"the database is unreachable ({where}): {reason}") from None
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT app, name FROM django_migrations")
            applied = {(a, n) for a, n in cur.fetchall()}
    except DatabaseError:
        applied = set()
    if not _expected_migrations() <= applied:
        try:
            call_command("migrate", verbosity=0, interactive=False)
        except DatabaseError as exc:
            raise KithError(f"cannot bring the database up to date: {exc}") from exc
