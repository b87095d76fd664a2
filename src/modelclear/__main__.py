"""``python -m modelclear`` runs the CLI."""

from .cli import run

run()
