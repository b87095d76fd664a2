"""The one Jinja environment every Markdown and HTML report is rendered with.

Templates live in ``data/templates``. HTML templates (``*.html.j2``) are
autoescaped, Markdown ones are not; undefined variables are errors, so a template
and the data prepared for it cannot drift apart silently.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jinja2

from ..units import human_bytes, human_count


def md_escape(text: Any) -> str:
    """Text safe inside a Markdown table cell (pipes and newlines would break the row)."""
    s = "" if text is None else str(text)
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", "")


def md_cell(value: Any) -> str:
    """Like :func:`md_escape`, for compliance documents: a missing value reads "—" and
    whitespace collapses, so a wrapped license clause stays on one row."""
    if value is None:
        return "—"
    return " ".join(str(value).split()).replace("|", "\\|")


def fence(text: str) -> str:
    """A backtick fence longer than any backtick run in ``text``, so no license text can
    close its own code block."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(4, longest + 1)


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("modelclear", "data/templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = md_escape
    env.filters["md_cell"] = md_cell
    env.filters["fence"] = fence
    env.filters["human"] = human_bytes
    env.filters["num"] = human_count
    return env


def render_template(name: str, **data: Any) -> str:
    return environment().get_template(name).render(**data)
