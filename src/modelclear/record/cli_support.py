"""What the record commands share: resolving records, profiles and ``--fail-on``.

How records look in a terminal is :mod:`modelclear.reports.record`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, UsageError
from .model import Record
from .registry import MIN_PREFIX, Registry
from .verify import FAIL_ON

if TYPE_CHECKING:
    from ..analyzers.policy import Profile


def load_profile(name: str | None) -> Profile | None:
    if name is None:
        return None
    from ..analyzers.policy.profile import load_profile as load

    return load(name)


def check_fail_on(value: str) -> str:
    value = value.lower()
    if value not in FAIL_ON:
        raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON)} (got {value!r})")
    return value


def looks_like_id(ref: str) -> bool:
    return len(ref) >= MIN_PREFIX and all(c in "0123456789abcdef" for c in ref.lower())


def record_from_file(path: Path) -> Record:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    return Record.from_json(text, str(path))


def resolve_record(ref: str, registry: str | None) -> Record:
    """A record named by id (prefix) in the registry, or a record JSON file."""
    p = Path(ref)
    if p.is_file():
        return record_from_file(p)
    with Registry(registry) as reg:
        return reg.get(ref)
