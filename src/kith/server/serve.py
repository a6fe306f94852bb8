"""Run the WSGI app under gunicorn (workers fork from a prepared master)."""

from __future__ import annotations

import errno
import os
import socket
from typing import Any

from kith.conf import data_dir


def configure(url: str | None) -> str:
    """Configure Django with the server settings on ``url`` and bring the schema up to date."""
    import django
    from django.conf import settings

    from kith.bootstrap import ensure_schema
    from kith.conf import django_settings, resolve_db_url

    resolved = resolve_db_url(url)
    if not settings.configured:
        conf = django_settings(resolved, server=True)
        db = conf["DATABASES"]["default"]
        if db["ENGINE"].endswith("postgresql"):
            tune_postgresql(db)
        settings.configure(**conf)
    django.setup()
    ensure_schema()
    return resolved


# PostgreSQL's default cost of a random page (4) is a spinning disk's. A CRM's working set
# is in memory or on SSD; priced as a disk, a person's 100 relationships were joined to
# their other ends by hashing every record of the workspace (3.7 ms of the database's CPU)
# instead of looking up 100 of them by key (~0.1 ms). KITH_PG_RANDOM_PAGE_COST="" leaves
# the database's own setting (say, one a DBA made with ALTER DATABASE ... SET).
RANDOM_PAGE_COST = "1.1"


def tune_postgresql(db: dict[str, Any]) -> None:
    """Settings of the server's PostgreSQL connections (``db``: Django's DATABASES entry)."""
    # keep each worker thread's connection: a new PostgreSQL backend per request costs
    # more than the request itself
    db["CONN_MAX_AGE"] = int(os.environ.get("KITH_CONN_MAX_AGE", "300"))
    db["CONN_HEALTH_CHECKS"] = True
    cost = os.environ.get("KITH_PG_RANDOM_PAGE_COST", RANDOM_PAGE_COST).strip()
    if cost:
        try:
            value = float(cost)
        except ValueError:
            value = -1.0
        if not 0 < value < 1000:
            from kith.core.errors import ValidationError

            raise ValidationError(
                f"KITH_PG_RANDOM_PAGE_COST: {cost!r} is not a cost between 0 and 1000 "
                "(e.g. 1.1; empty leaves the database's setting)",
                field="KITH_PG_RANDOM_PAGE_COST",
            )
        options = db.setdefault("OPTIONS", {})
        given = str(options.get("options", ""))
        options["options"] = f"{given} -c random_page_cost={value:g}".strip()


def demo_email(fallback: str) -> str:
    """The sign-in for trying Kith on demo data: the first of our team with an email, so the
    home page shows that person's own relationships; else ``fallback``."""
    from kith.relationships.selectors import first_team_email

    return (first_team_email() or fallback).lower()


def prepare(*, demo: str | None = None) -> list[tuple[str, str, bool]]:
    """Make the server ready: a shared secret key and the sign-ins of :func:`signins`."""
    from django.conf import settings
    from django.db import connections

    from kith.accounts.services import server_secret

    if not os.environ.get("KITH_SECRET_KEY"):
        settings.SECRET_KEY = server_secret()
    found = signins(demo=demo)
    connections.close_all()  # the workers fork from here: no shared connection
    return found


def signins(*, demo: str | None = None) -> list[tuple[str, str, bool]]:
    """The sign-ins to print once, as (email, password, is_demo): the first admin when just
    created, and with ``demo`` (a fallback email) the demo admin, created or given a new
    password now."""
    from kith.accounts.services import ensure_first_admin, reset_demo_admin

    found = []
    if demo:
        memory = data_dir() / "demo-signin"  # the last start's password: kept, if it works
        remembered = memory.read_text().strip() if memory.is_file() else None
        email, password = reset_demo_admin(email=demo_email(demo), remembered=remembered)
        if password != remembered:
            memory.parent.mkdir(parents=True, exist_ok=True)
            memory.touch(mode=0o600)
            memory.write_text(password)
        found.append((email, password, True))
    created = ensure_first_admin(email=os.environ.get("KITH_ADMIN_EMAIL", "admin@kith.local"))
    if created:
        found.insert(0, (created[0].username, created[1], False))
    return found


def check_port_free(host: str, port: int) -> None:
    """Refuse a port another program listens on, before saying "serving at" (gunicorn would
    otherwise print its own errors after that line and give up)."""
    from kith.core.errors import ValidationError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise ValidationError(f"--host: cannot listen on {host}:{port} ({exc.strerror})",
                                      field="host") from None  # fmt: skip
            raise ValidationError(
                f"--port: {port} is busy (another program listens on {host}:{port}); pick "
                f"another: kith serve --port {port + 10}, or make run PORT={port + 10}",
                field="port",
            ) from None


def allow_host(host: str) -> None:
    """Answer to the address the server binds to, unless ``KITH_ALLOWED_HOSTS`` says which
    names to answer to; a wildcard bind needs that setting (which names would be right?)."""
    from django.conf import settings

    from kith.core.errors import ValidationError

    if os.environ.get("KITH_ALLOWED_HOSTS"):
        return
    if host in ("0.0.0.0", "::", ""):
        raise ValidationError(
            f"--host: {host!r} listens on every address; set KITH_ALLOWED_HOSTS to the "
            "names clients use (e.g. crm.example.com) so other Host headers are refused",
            field="host",
        )
    name = f"[{host}]" if ":" in host else host
    if name not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, name]


def start_job_worker(url: str) -> Any:
    """Start one ``kith worker`` beside the web app (a child process; see stop_job_worker).

    The database URL goes through the environment (not the command line, where ``ps``
    would show its password); the child stops by itself if this process dies."""
    import subprocess
    import sys

    env = {**os.environ, "KITH_DB": url}
    return subprocess.Popen(
        [sys.executable, "-m", "kith", "worker", "--parent", str(os.getpid())], env=env
    )


def stop_job_worker(proc: Any, timeout: float = 20.0) -> None:
    """Stop the worker child: Ctrl-C lets its running jobs finish, then it is killed."""
    import signal
    import subprocess

    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()  # its jobs run again on the next start
        proc.wait(timeout=5)
    except (ProcessLookupError, ChildProcessError):
        pass  # already gone (gunicorn's master may have reaped it)


def run(*, host: str, port: int, workers: int, threads: int) -> None:
    from django.core.handlers.wsgi import WSGIHandler
    from gunicorn.app.base import BaseApplication

    import kith.server.urls  # noqa: F401  (import the API before forking)

    wsgi = WSGIHandler()

    class KithServer(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "timeout": 60,
                "graceful_timeout": 10,
                "accesslog": os.environ.get("KITH_ACCESS_LOG"),
                "errorlog": "-",
                "loglevel": os.environ.get("KITH_LOG_LEVEL", "warning"),
                "post_fork": _post_fork,
                # gunicorn would take X-Forwarded-Proto from any loopback peer; Kith takes
                # it only from KITH_TRUSTED_PROXIES (kith.server.middleware)
                "secure_scheme_headers": {},
            }
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return wsgi

    KithServer().run()


def _post_fork(server: Any, worker: Any) -> None:
    from django.db import connections

    connections.close_all()
