"""The GPU catalog and the serving rules: the data files sizing reads.

Both are TOML under ``data/`` so a new GPU or a changed engine default is a data
change, reviewed as such, not a code change.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ...errors import UsageError


@dataclass(frozen=True)
class GPU:
    key: str
    name: str
    vendor: str
    memory_bytes: int
    marketed: str
    capacity_source: str
    max_per_node: int
    fp8: bool
    engines: tuple[str, ...]
    memory_fraction: float | None = None
    aliases: tuple[str, ...] = ()

    @property
    def unified(self) -> bool:
        return self.memory_fraction is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "vendor": self.vendor,
            "memory_bytes": self.memory_bytes,
            "marketed": self.marketed,
            "capacity_source": self.capacity_source,
            "max_per_node": self.max_per_node,
        }


def _data(name: str) -> dict[str, Any]:
    text = (resources.files("modelclear") / "data" / name).read_text("utf-8")
    return tomllib.loads(text)


@cache
def gpu_catalog() -> dict[str, GPU]:
    out: dict[str, GPU] = {}
    for key, row in _data("gpus.toml")["gpus"].items():
        out[key] = GPU(
            key=key,
            name=row["name"],
            vendor=row["vendor"],
            memory_bytes=int(row["memory_mib"]) * 1024 * 1024,
            marketed=row["marketed"],
            capacity_source=row["capacity_source"],
            max_per_node=int(row["max_per_node"]),
            fp8=bool(row["fp8"]),
            engines=tuple(row["engines"]),
            memory_fraction=row.get("memory_fraction"),
            aliases=tuple(row.get("aliases", ())),
        )
    return out


def _norm(s: str) -> str:
    """A GPU name as people type it: case, spaces, dashes and a trailing GB ignored."""
    out = "".join(ch for ch in s.lower() if ch.isalnum())
    return out.removesuffix("gb")


def find_gpu(name: str) -> GPU:
    """A catalog GPU by key or alias as people type it (``A100``, ``a100-80gb``, ``H100 SXM``).

    Exact key or alias first; then a unique key/alias prefix. Anything else is a usage
    error listing the catalog, never a nearest guess.
    """
    cat = gpu_catalog()
    wanted = _norm(name)
    names: dict[str, GPU] = {}
    for key, gpu in cat.items():
        for n in (key, *gpu.aliases):
            names.setdefault(_norm(n), gpu)
    if wanted in names:
        return names[wanted]
    prefixed = {g.key: g for n, g in names.items() if wanted and n.startswith(wanted)}
    if len(prefixed) == 1:
        return next(iter(prefixed.values()))
    raise UsageError(f"unknown GPU {name!r}; known: {', '.join(cat)}")


@cache
def serving_rules() -> dict[str, Any]:
    return _data("serving.toml")
