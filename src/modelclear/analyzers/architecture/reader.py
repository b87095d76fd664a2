"""Typed, validated access to config.json values, with errors that name the file and key.

A wrong type in a config must be an input error pointing at the key, never a
traceback from deep inside a formula.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...errors import InputError


class Reader:
    """Typed access to one config dict, with errors naming the file and key."""

    def __init__(self, data: dict[str, Any], file: str, prefix: str = "") -> None:
        self.data = data
        self.file = file
        self.prefix = prefix

    def _bad(self, key: str, want: str, value: Any) -> InputError:
        shown = json.dumps(value)[:60] if _jsonable(value) else repr(value)[:60]
        return InputError(self.file, f"{self.prefix}{key} must be {want}, got {shown}")

    def int_(self, key: str, *, positive: bool = True, allow_zero: bool = False) -> int | None:
        v = self.data.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            else:
                raise self._bad(key, "an integer", v)
        if v < 0 or (v == 0 and positive and not allow_zero):
            raise self._bad(key, "a positive integer", v)
        if v > 1 << 40:
            raise self._bad(key, "a plausible size (below 2^40)", v)
        return v

    def first_int(self, *keys: str, allow_zero: bool = False) -> int | None:
        for k in keys:
            v = self.int_(k, allow_zero=allow_zero)
            if v is not None:
                return v
        return None

    def bool_(self, key: str, default: bool) -> bool:
        v = self.data.get(key)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise self._bad(key, "true or false", v)
        return v

    def float_(self, key: str) -> float | None:
        v = self.data.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self._bad(key, "a number", v)
        return float(v)

    def str_(self, key: str) -> str | None:
        v = self.data.get(key)
        if v is None:
            return None
        if not isinstance(v, str):
            raise self._bad(key, "a string", v)
        return v

    def int_list(self, key: str) -> tuple[int, ...]:
        v = self.data.get(key)
        if v is None:
            return ()
        if not isinstance(v, list) or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in v
        ):
            raise self._bad(key, "a list of integers", v)
        return tuple(v)

    def str_list(self, key: str) -> tuple[str, ...] | None:
        v = self.data.get(key)
        if v is None:
            return None
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self._bad(key, "a list of strings", v)
        return tuple(v)

    def dict_(self, key: str) -> dict[str, Any] | None:
        v = self.data.get(key)
        if v is None:
            return None
        if not isinstance(v, dict):
            raise self._bad(key, "an object", v)
        return v


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True


def parse_config_text(text: str, file: str) -> dict[str, Any]:
    """config.json text → dict, or an InputError naming the file and the problem."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(file, f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise InputError(file, "not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise InputError(file, f"must hold a JSON object, not a {type(data).__name__}")
    return data


def key_lines(text: str | None) -> dict[str, int]:
    """First line on which each ``"key":`` appears — evidence for facts read from it."""
    if not text:
        return {}
    out: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        for m in re.finditer(r'"([A-Za-z0-9_]+)"\s*:', line):
            out.setdefault(m.group(1), n)
    return out
