"""The ggml type table: how many bytes a GGUF tensor of a given type occupies.

The table itself is data (``data/ggml_types.toml``) so a new quantization type
is a data change. Both the GGUF reader (to bound tensor sizes) and the sizing
analyzer (bits per weight of k-quants and IQ types) read it through here, so
there is one source of truth for block layouts.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class GGMLType:
    id: int
    name: str
    block_size: int  # elements per block
    type_size: int  # bytes per block
    removed: bool = False  # id once assigned by ggml, refused by current llama.cpp

    @property
    def bits_per_weight(self) -> float:
        return self.type_size * 8 / self.block_size

    def nbytes(self, numel: int) -> int:
        """Bytes for ``numel`` elements; ggml requires whole blocks (checked by callers)."""
        return (numel // self.block_size) * self.type_size


@dataclass(frozen=True)
class _Table:
    by_id: dict[int, GGMLType]
    by_name: dict[str, GGMLType]
    file_types: dict[int, str]


@cache
def _table() -> _Table:
    text = (resources.files("modelclear") / "data" / "ggml_types.toml").read_text("utf-8")
    data = tomllib.loads(text)
    by_id: dict[int, GGMLType] = {}
    for key, row in data["types"].items():
        t = GGMLType(
            id=int(key),
            name=str(row["name"]),
            block_size=int(row["block"]),
            type_size=int(row["bytes"]),
            removed=bool(row.get("removed", False)),
        )
        by_id[t.id] = t
    by_name = {t.name: t for t in by_id.values()}
    file_types = {int(k): str(v) for k, v in data["file_types"].items()}
    return _Table(by_id=by_id, by_name=by_name, file_types=file_types)


def ggml_type(id_or_name: int | str) -> GGMLType | None:
    """The ggml type by numeric id (as stored in GGUF) or by name (``Q4_K``, ``bf16``)."""
    table = _table()
    if isinstance(id_or_name, int):
        return table.by_id.get(id_or_name)
    return table.by_name.get(id_or_name.upper())


def all_types() -> tuple[GGMLType, ...]:
    return tuple(sorted(_table().by_id.values(), key=lambda t: t.id))


def file_type_name(n: int) -> str | None:
    """Name of a GGUF ``general.file_type`` value (``MOSTLY_Q4_K_M``), None if unknown."""
    return _table().file_types.get(n)


def quantization_name(n: int) -> str | None:
    """The short quantization label users know (``Q4_K_M``, ``F16``, ``BF16``)."""
    name = file_type_name(n)
    if name is None or name == "GUESSED":
        return name
    for prefix in ("MOSTLY_", "ALL_"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name
