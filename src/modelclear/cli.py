"""The ``modelclear`` command line.

Each command lives in ``commands/<name>.py`` and registers itself on :data:`app`.
This module only assembles them and turns errors into exit codes (design.md):
0 clean, 1 a verdict reached ``--fail-on``, 2 usage or input error.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import InputError

if TYPE_CHECKING:
    import typer

    app: typer.Typer


def _build_app() -> typer.Typer:
    """The typer application, built on first use (``scan`` may never need it)."""
    import typer

    application = typer.Typer(
        name="modelclear",
        help="Clear open-weight language models for use: what a release contains, what its "
        "license permits, whether it is safe to load, what it needs to run, and proof of it "
        "all.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )

    def _version(value: bool) -> None:
        if value:
            print(f"modelclear {__version__}")
            raise typer.Exit()

    @application.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True,
            help="Print the version and exit."
        ),
        endpoint: str | None = typer.Option(
            None, "--endpoint", help="Hub (or mirror) URL for hf://org/name[@revision] "
            "targets; default $HF_ENDPOINT, else huggingface.co. Accepted after the command "
            "too."),
    ) -> None:
        """modelclear — clearance for open-weight models, offline, with evidence."""

    return application


def __getattr__(name: str) -> Any:
    """``app`` on first access (commands register on it; PEP 562 module attribute)."""
    if name == "app":
        return _the_app()
    raise AttributeError(name)


def _the_app() -> typer.Typer:
    """The one application: built once, then a plain module global."""
    application = globals().get("app")
    if application is None:
        globals()["app"] = application = _build_app()
    return application


def take_endpoint(args: list[str]) -> list[str]:
    """Remove ``--endpoint URL`` (anywhere on the line) and hand it to the hub source, so
    every release command accepts it without declaring it again."""
    out: list[str] = []
    it = iter(args)
    for a in it:
        if a == "--endpoint" or a.startswith("--endpoint="):
            value = a.partition("=")[2] if "=" in a else next(it, "")
            if not value.startswith(("http://", "https://")):
                raise InputError("--endpoint", f"expected an http(s) URL, not {value!r}")
            from .sources.hub import set_endpoint

            set_endpoint(value)
            continue
        out.append(a)
    return out


#: Commands defined in a module named otherwise (module name = command name elsewhere).
COMMAND_MODULE = {"drift": "baseline"}


def load_commands(argv: list[str]) -> None:
    """Import the command module the user asked for, or every one for help.

    Each module registers its commands on ``app`` when imported. Importing only the
    one a run needs keeps start-up small: the registry, the license catalog and the
    HTTP client are not loaded to inspect a file.
    """
    import importlib
    import pkgutil

    from . import commands

    wanted = next((a for a in argv if not a.startswith("-")), None)
    names = sorted(m.name for m in pkgutil.iter_modules(commands.__path__))
    module = COMMAND_MODULE.get(wanted or "", wanted)
    if wanted is not None and module in names:
        names = [module]
    elif wanted is None and argv and all(a in ("--version",) for a in argv):
        names = []
    for name in names:
        importlib.import_module(f"modelclear.commands.{name}")


def main(argv: list[str] | None = None) -> int:
    import typer
    from rich.markup import escape

    from .console import stderr_console

    err = stderr_console()
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        args = take_endpoint(args)
    except InputError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    load_commands(args)
    try:
        # Without standalone mode, click hands back the code of an Exit as the result.
        result = _the_app()(args=args, standalone_mode=False, prog_name="modelclear")
    except InputError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    except typer.Abort:
        err.print("aborted")
        return 130
    except typer.TyperException as exc:  # typer's own click: usage errors, bad options
        # typer (third-party): only its ClickException subclasses have show() and exit_code
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            err.print(f"error: {escape(str(exc))}")
        code = getattr(exc, "exit_code", 2)
        return code if isinstance(code, int) else 2
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    return result if isinstance(result, int) else 0


def run() -> None:
    """The console script: output stays UTF-8 whatever the file names (a name that is not
    UTF-8 is written escaped), and ``scan`` and ``license`` in their simple forms (one
file scanned; license texts read) skip the CLI stack."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    # pydantic looks for plugins (entry points of every installed distribution: ~30 ms
    # in a venv with torch) when it builds a model; ours are internal result types that
    # no validation plugin is meant to observe. An explicit setting by the user wins.
    import os

    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if sys.argv[1:2] == ["scan"]:
        from .reports.scan_lean import run_scan

        code = run_scan(sys.argv[2:])
        if code is not None:
            sys.exit(code)
    elif sys.argv[1:2] == ["license"]:
        from .reports.license_lean import run_license

        code = run_license(sys.argv[2:])
        if code is not None:
            sys.exit(code)
    sys.exit(main())

