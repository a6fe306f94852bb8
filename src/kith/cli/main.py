"""The ``kith`` command: a thin Typer shell over the services and selectors of each app."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import click
import typer

from kith.cli.output import set_db


def _new_app() -> typer.Typer:
    app = typer.Typer(
        name="kith",
        help="Kith, a relationship-first CRM.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode=None,
    )
    app.callback()(_root)
    return app


def _root(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (sqlite:///PATH or postgresql://...); "
            "default $KITH_DB, else the file in the user data directory.",
        ),
    ] = None,
) -> None:
    set_db(db)


# Each feature's cli module has register(app); importing them must not import Django.
CLI_MODULES = [
    "kith.records.cli",
    "kith.relationships.cli",
    "kith.interactions.cli",
    "kith.demo.cli",
    "kith.dedupe.cli",
    "kith.imports.cli",
    "kith.backup.cli",
    "kith.accounts.cli",
    "kith.server.cli",
    "kith.intelligence.cli",
    "kith.network.cli",
    "kith.cli.worker",
    "kith.rules.cli",
    "kith.tasks.cli",
    "kith.notifications.cli",
    "kith.metrics.cli",
    "kith.plans.cli",
    "kith.lists.cli",
    "kith.surveys.cli",
    "kith.pipelines.cli",
    "kith.capture.cli",
    "kith.briefs.cli",
]


def _command_name(argv: list[str]) -> str | None:
    """The command a command line asks for (skipping ``--db URL``), if any."""
    args = iter(argv)
    for arg in args:
        if arg == "--db":
            next(args, None)
        elif not arg.startswith("-"):
            return arg
        elif not arg.startswith("--db="):
            return None  # --help and the like: the whole app
    return None


def _names(app: typer.Typer) -> set[str]:
    names = {
        c.name or (c.callback.__name__.replace("_", "-") if c.callback else "")
        for c in app.registered_commands
    }
    for group in app.registered_groups:
        instance = group.typer_instance
        names.add(group.name or (instance.info.name if instance else None) or "")
    return names


def build_app(argv: list[str]) -> typer.Typer:
    """The CLI app; with only the module that owns the requested command when one is named.

    Click builds every registered command's parser at start-up, so a run that needs one
    command registers one module (about 80 ms less per run than all of them).
    """
    import importlib

    modules = [importlib.import_module(name) for name in CLI_MODULES]
    app = _new_app()
    wanted = _command_name(argv)
    if wanted is not None:
        for module in modules:
            probe = typer.Typer()
            module.register(probe)
            if wanted in _names(probe):
                module.register(app)
                return app
    for module in modules:
        module.register(app)
    return app


def _fail(message: str, code: int = 1) -> int:
    from kith.cli.output import error

    error(message)
    return code


def _usage_error(exc: click.UsageError) -> int:
    """A usage error as one line naming the problem and where help is."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        exc.show()  # bare `kith`: the help text, as before
        return exc.exit_code
    hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    return _fail(" ".join(exc.format_message().split()) + hint, exc.exit_code)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; errors become one line, never a traceback."""
    from kith.core.errors import KithError

    args = sys.argv[1:] if argv is None else argv
    try:
        code = build_app(args)(args=args, prog_name="kith", standalone_mode=False)
        return code if isinstance(code, int) else 0  # typer.Exit(n) comes back as n
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except click.UsageError as exc:
        return _usage_error(exc)
    except click.ClickException as exc:
        return _fail(exc.format_message(), exc.exit_code)
    except click.exceptions.Abort:
        return _fail("aborted", 1)
    except KithError as exc:
        return _fail(exc.message)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: no tracebacks for users
        if os.environ.get("KITH_DEBUG"):
            raise
        from django.db import DatabaseError

        if isinstance(exc, DatabaseError):
            return _fail(f"database error: {exc}".strip())
        return _fail(
            f"internal error ({type(exc).__name__}: {exc}); rerun with KITH_DEBUG=1 for details", 70
        )
    return 0


def main() -> None:
    sys.exit(run())
