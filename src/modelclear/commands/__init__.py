"""CLI commands, one module each; they register on :data:`modelclear.cli.app`."""
