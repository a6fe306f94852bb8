"""``kith serve``: the JSON API and static files under gunicorn, on the configured database."""

from __future__ import annotations

from typing import Annotated

import typer

from kith.cli.output import open_workspace, say

DEMO_EMAIL = "demo@kith.local"


def cmd_serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.")] = 2,
    threads: Annotated[int, typer.Option("--threads", help="Threads per worker.")] = 8,
    job_worker: Annotated[
        bool,
        typer.Option(
            "--job-worker/--no-job-worker",
            help="Run one background worker beside the web app (off when workers run "
            "elsewhere: kith worker).",
        ),
    ] = True,
    demo_signin: Annotated[
        bool,
        typer.Option(
            "--demo-signin",
            help="Loopback only: make the first of our team with an email (else "
            f"{DEMO_EMAIL}) an admin with a new password and print it, to try Kith on demo data.",
        ),
    ] = False,
) -> None:
    """Serve the web app (/) and the JSON API (/api/v1) under gunicorn.

    The first start creates an admin and prints its one-time password."""
    from kith.core.errors import ValidationError

    if not 1 <= port <= 65535:
        raise ValidationError(f"--port: {port} is not a port number", field="port")
    if not 1 <= workers <= 64 or not 1 <= threads <= 64:
        raise ValidationError("--workers/--threads: must be between 1 and 64", field="workers")
    if demo_signin and host not in ("127.0.0.1", "localhost", "::1"):
        raise ValidationError(
            f"--demo-signin: only on a loopback host, not {host!r} (its password is printed)",
            field="host",
        )
    from kith.cli import output
    from kith.server.serve import (
        allow_host,
        check_port_free,
        configure,
        prepare,
        run,
        start_job_worker,
        stop_job_worker,
    )

    url = configure(output._db_url)
    allow_host(host)
    check_port_free(host, port)
    for email, password, demo in prepare(demo=DEMO_EMAIL if demo_signin else None):
        say(f"sign in as {email}" if demo else f"created the first admin {email}")
        print(f"one-time password: {password}", flush=True)
        say("change it with: kith user passwd " + email)
    web = f"http://{'[::1]' if host == '::1' else host}:{port}"
    say(f"kith is serving the web app at {web}/")
    say(f"and the JSON API at {web}/api/v1")
    say(f"({workers} workers x {threads} threads; Ctrl-C stops)")
    child = start_job_worker(url) if job_worker else None
    if child is not None:
        say("and one background job worker (kith worker)")
    try:
        run(host=host, port=port, workers=workers, threads=threads)
    finally:
        if child is not None:
            stop_job_worker(child)


def cmd_webhooks_deliver(
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 100,
) -> None:
    """Send the webhook deliveries that are due now (the worker does this by itself)."""
    open_workspace()
    from kith.webhooks.outbox import deliver_due

    say(f"attempted {deliver_due(limit=limit)} deliveries")


def register(app: typer.Typer) -> None:
    app.command("serve")(cmd_serve)
    app.command("deliver-webhooks")(cmd_webhooks_deliver)
