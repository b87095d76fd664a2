"""``modelclear profile``: list, show and start deployment profiles."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import typer
from rich.markup import escape
from rich.syntax import Syntax

from ..analyzers.policy import builtin_names, load_profile
from ..analyzers.policy.profile import builtin_text
from ..cli import app
from ..console import emit_json, stdout_console
from ..errors import InputError
from ..schemas import document

profile_app = typer.Typer(help="Deployment profiles: list, show, init.", no_args_is_help=True)
app.add_typer(profile_app, name="profile")


def template_text() -> str:
    return (resources.files("modelclear") / "data" / "profiles" / "template.yaml.in").read_text(
        encoding="utf-8"
    )


@profile_app.command("list")
def list_profiles(
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List the built-in profiles."""
    out = stdout_console()
    profiles = [load_profile(n) for n in builtin_names()]
    if json_out:
        emit_json(document("profile", {
            "profiles": [{"name": p.name, "description": p.description} for p in profiles]}))
        return
    for p in profiles:
        out.print(f"[bold]{p.name:<18}[/] {escape(p.description)}")


@profile_app.command("show")
def show(
    name: str = typer.Argument(..., help="Built-in profile name or a profile YAML file."),
    json_out: bool = typer.Option(False, "--json", help="The validated profile as JSON."),
) -> None:
    """Print a profile (validated; a bad file is reported with its key path and line)."""
    out = stdout_console()
    prof = load_profile(name)
    if json_out:
        emit_json(document("profile", {"profile": prof.to_json(),
                                       "derived": {"commercial": prof.is_commercial,
                                                   "third_party": prof.third_party}}))
        return
    text = builtin_text(name) if name in builtin_names() and not Path(name).is_file() else (
        Path(name).read_text(encoding="utf-8"))
    out.print(Syntax(text, "yaml", background_color="default", word_wrap=True))
    out.print(f"[dim]commercial use: {'yes' if prof.is_commercial else 'no'}; reaches third "
                 f"parties: {'yes' if prof.third_party else 'no'}[/]")


@profile_app.command("init")
def init(
    path: str = typer.Argument("modelclear-profile.yaml", help="Where to write the template."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented profile template to edit."""
    out = stdout_console()
    target = Path(path)
    if target.exists() and not force:
        raise InputError(path, "already exists (use --force to overwrite)")
    try:
        target.write_text(template_text(), encoding="utf-8")
    except OSError as exc:
        raise InputError(path, f"cannot write: {exc.strerror or exc}") from None
    out.print(f"wrote {escape(str(target))}; check a release with: modelclear check TARGET "
                 f"--profile {escape(str(target))}")
