"""``modelclear serve``: the team review web app, and its account administration."""

from __future__ import annotations

import getpass
import sys

import typer

from ..cli import app
from ..console import stdout_console
from ..errors import InputError, UsageError


def _password(name: str) -> str:
    """From the terminal (asked twice), or the first line of standard input when piped."""
    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != first:
            raise UsageError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


@app.command()
def serve(
    registry: str | None = typer.Option(
        None, "--registry", help="Database URL or SQLite path (default: $MODELCLEAR_REGISTRY, "
        "else the user data directory)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", help="Port to listen on.", min=1, max=65535),
    two_reviewers: str = typer.Option(
        "", "--two-reviewers", help="Comma-separated profiles whose approvals need two "
        "reviewers, neither of them the requester."),
    workers: int = typer.Option(2, "--audit-workers", min=1, max=16,
                                help="Audits run at once in the background."),
    secure_cookies: bool = typer.Option(False, "--secure-cookies",
                                        help="Mark cookies Secure (when served over HTTPS)."),
    create_admin: str | None = typer.Option(
        None, "--create-admin", help="Create an admin user NAME (password from the prompt or "
        "standard input) and exit."),
    create_user: str | None = typer.Option(
        None, "--create-user", help="Create a user NAME with --role and exit."),
    role: str = typer.Option("viewer", "--role",
                             help="Role of --create-user: viewer, requester, reviewer, admin."),
    create_token: str | None = typer.Option(
        None, "--create-token", help="Print a new API token for user NAME and exit."),
) -> None:
    """Run the review server: request, audit, review and keep clearances (FastAPI, Jinja)."""
    from ..server.store import Store

    out = stdout_console()
    if create_admin or create_user or create_token:
        store = Store(registry)
        try:
            if create_token:
                out.print(store.new_token(create_token, "created with --create-token"),
                          highlight=False, soft_wrap=True)
                return
            name = create_admin or create_user or ""
            user = store.add_user(name, "admin" if create_admin else role, _password(name))
        except ValueError as exc:
            raise InputError(store.display_url, str(exc)) from None
        finally:
            store.close()
        out.print(f"user {user.name} ({user.role}) created", highlight=False)
        return
    import uvicorn

    from ..server.app import Settings, create_app

    profiles = frozenset(p.strip() for p in two_reviewers.split(",") if p.strip())
    application = create_app(Settings(registry=registry, two_reviewer_profiles=profiles,
                                      worker_threads=workers, secure_cookies=secure_cookies))
    out.print(f"modelclear review server on http://{host}:{port}/ "
              f"(registry {application.state.services.store.display_url})", highlight=False)
    # uvicorn's access log would print query strings; the server logs its own errors only
    uvicorn.run(application, host=host, port=port, access_log=False, log_level="warning")
