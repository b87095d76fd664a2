"""The other witnesses of a parameter count: the shard index and the model card.

A count is only trustworthy when every available source agrees: the weight
headers (exact), ``model.safetensors.index.json``'s ``total_size`` divided by the
checkpoint's dtype width, the config formula, and the size the card states
("7.61B"). These readers turn each source into a number with its evidence, so
the cross-check in ``analyzers.params`` can name both figures when they differ.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ...errors import InputError
from ...release import ReleaseFile
from .model import DTYPE_BYTES

INDEX_NAMES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
MAX_INDEX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ShardIndex:
    """What a shard index says: total bytes, tensor count, shards, and params if derivable."""

    file: str
    total_size: int
    tensors: int
    shards: int
    dtype: str | None  # the checkpoint dtype used to turn bytes into parameters
    params: int | None  # total_size / dtype width; None when quantized or dtype unknown

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "total_size": self.total_size, "tensors": self.tensors,
                "shards": self.shards, "dtype": self.dtype, "params": self.params}


def read_index(f: ReleaseFile, dtype: str | None, quantized: bool) -> ShardIndex:
    """Parse a shard index; a bad one is an input error naming the file."""
    text = f.read_text(limit=MAX_INDEX_BYTES)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f.path, f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise InputError(f.path, "must hold a JSON object")
    meta = data.get("metadata") or {}
    wmap = data.get("weight_map") or {}
    if not isinstance(meta, dict) or not isinstance(wmap, dict):
        raise InputError(f.path, "metadata and weight_map must be objects")
    total = meta.get("total_size")
    if isinstance(total, float) and total.is_integer():
        total = int(total)
    if isinstance(total, bool) or not isinstance(total, int) or total <= 0:
        raise InputError(f.path, "metadata.total_size must be a positive integer")
    width = DTYPE_BYTES.get(dtype or "") if dtype else None
    params = None if quantized or not width else round(total / width)
    shards = len({v for v in wmap.values() if isinstance(v, str)})
    return ShardIndex(f.path, total, len(wmap), shards, dtype, params)


# ---- the card's stated size ----------------------------------------------------------------

_STATED = re.compile(
    r"(?:number of parameters|parameters|params|model size|total params)\s*[:|]*\s*"
    r"(?P<n>\d+(?:\.\d+)?)\s*(?P<u>[BbMmTt])\b"
    r"|(?P<n2>\d+(?:\.\d+)?)\s*(?P<u2>[BMT])\s+(?:total\s+)?param",
    re.IGNORECASE,
)
_UNIT = {"m": 10**6, "b": 10**9, "t": 10**12}


@dataclass(frozen=True)
class StatedSize:
    """A parameter count the card states, with its rounding and where it says so."""

    value: int
    text: str
    line: int
    tolerance: float  # relative half-unit of the last stated digit

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "text": self.text, "line": self.line,
                "tolerance": self.tolerance}


def stated_size(text: str) -> StatedSize | None:
    """The first "Number of Parameters: 7.61B" / "671B total parameters" in a card."""
    for n, line in enumerate(text.splitlines(), 1):
        if len(line) > 2000:
            continue
        m = _STATED.search(line)
        if not m:
            continue
        num = m["n"] or m["n2"]
        unit = (m["u"] or m["u2"]).lower()
        value = float(num) * _UNIT[unit]
        if value <= 0:
            continue
        decimals = len(num.split(".")[1]) if "." in num else 0
        tol = 0.5 * 10 ** (-decimals) * _UNIT[unit] / value
        return StatedSize(int(value), m.group(0).strip(), n, tol)
    return None
