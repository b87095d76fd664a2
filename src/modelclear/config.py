"""Project configuration: ``modelclear.toml`` or ``[tool.modelclear]`` in ``pyproject.toml``.

Found like ruff finds its config: the nearest file walking up from the working
directory, ``modelclear.toml`` winning over ``pyproject.toml`` in the same
folder. A pyproject without a ``[tool.modelclear]`` table is skipped, so a
repository's own packaging file does not hide a config further up.

Keys::

    profile = "customer-saas"        # default --profile (name or path, relative to the file)
    ignore = ["MC510"]               # codes shown but not counted in the verdict
    [severity]                       # finding severity overrides per code
    MC502 = "high"
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .errors import InputError
from .findings import Severity, codes


class Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: str | None = None
    ignore: tuple[str, ...] = ()
    severity: dict[str, Severity] = {}
    file: str | None = None  # where it was read from (set by the loader, not the file)

    @field_validator("ignore")
    @classmethod
    def _codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = codes()
        out = []
        for c in value:
            c = c.upper()
            if c not in known and not any(k.startswith(c) for k in known):
                raise ValueError(f"unknown finding code {c!r}")
            out.append(c)
        return tuple(out)

    @field_validator("severity")
    @classmethod
    def _sev_codes(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        known = codes()
        for c in value:
            if c.upper() not in known:
                raise ValueError(f"unknown finding code {c!r}")
        return {c.upper(): v for c, v in value.items()}

    def ignores(self, code: str) -> bool:
        return any(code.startswith(i) for i in self.ignore)

    def ignored_codes(self) -> tuple[str, ...]:
        """Every known code matched by ``ignore`` (prefixes like "MC51" allowed)."""
        return tuple(c for c in codes() if self.ignores(c))


def _parse(path: Path, table: dict[str, Any]) -> Config:
    prefix = "tool.modelclear." if path.name == "pyproject.toml" else ""
    if "file" in table:  # set by the loader, never by the file
        raise InputError(str(path), f"{prefix}file: unknown key")
    try:
        cfg = Config.model_validate(table)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise InputError(str(path), f"{prefix}{where}: {msg}") from None
    profile = cfg.profile
    if profile and (profile.endswith((".yaml", ".yml")) or "/" in profile):
        profile = str((path.parent / profile).resolve())
    return cfg.model_copy(update={"file": str(path), "profile": profile})


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(path), f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot read: {exc}") from None


def find_config(start: Path | None = None) -> Config:
    """The nearest configuration, or defaults when there is none."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        own = folder / "modelclear.toml"
        if own.is_file():
            return _parse(own, _read(own))
        py = folder / "pyproject.toml"
        if py.is_file():
            table = _read(py).get("tool", {}).get("modelclear")
            if table is not None:
                if not isinstance(table, dict):
                    raise InputError(str(py), "tool.modelclear must be a table")
                return _parse(py, table)
    return Config()


def load_config(path: str | None = None) -> Config:
    """An explicit config file (``--config``), else the nearest one."""
    if path is None:
        return find_config()
    p = Path(path)
    if not p.is_file():
        raise InputError(path, "config file not found")
    data = _read(p)
    if p.name == "pyproject.toml":
        data = data.get("tool", {}).get("modelclear", {})
    return _parse(p, data)
