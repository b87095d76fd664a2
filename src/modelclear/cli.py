"""The ``modelclear`` command line.

Each command lives in ``commands/<name>.py`` and registers itself on :data:`app`.
This module only assembles them and turns errors into exit codes (design.md):
0 clean, 1 a verdict reached ``--fail-on``, 2 usage or input error.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer
from rich.markup import escape

from . import __version__
from .console import stderr
from .errors import InputError

app = typer.Typer(
    name="modelclear",
    help="Clear open-weight language models for use: what a release contains, what its "
    "license permits, whether it is safe to load, what it needs to run, and proof of it all.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)



def _version(value: bool) -> None:
    if value:
        print(f"modelclear {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """modelclear — clearance for open-weight models, offline, with evidence."""


def _load_commands() -> None:
    """Import every ``commands/`` module; each defines its commands on ``app``."""
    from . import commands

    for mod in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"modelclear.commands.{mod.name}")


_load_commands()


def main(argv: list[str] | None = None) -> int:
    try:
        # Without standalone mode, click hands back the code of an Exit as the result.
        result = app(args=argv, standalone_mode=False, prog_name="modelclear")
    except InputError as exc:
        stderr.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    except typer.Abort:
        stderr.print("aborted")
        return 130
    except typer.TyperException as exc:  # typer's own click: usage errors, bad options
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            stderr.print(f"error: {escape(str(exc))}")
        code = getattr(exc, "exit_code", 2)
        return code if isinstance(code, int) else 2
    except KeyboardInterrupt:
        stderr.print("interrupted")
        return 130
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())

