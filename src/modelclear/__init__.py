"""modelclear: clear open-weight language models for use, offline, with evidence."""

__version__ = "0.1.0"
