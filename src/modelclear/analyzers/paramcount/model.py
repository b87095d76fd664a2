"""The one intermediate form of a parameter count: a list of :class:`ParamEntry`.

Both methods (tensor headers, config formula) produce it, and totals, active
counts and sizing's byte counts are all computed from it, so "what the config
says" and "what the files hold" are compared like for like.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ...findings import Finding
from ...jsonout import JsonFields

#: tensor kinds
EMBED, LM_HEAD, LINEAR, NORM, BIAS, ROUTER = "embed", "lm_head", "linear", "norm", "bias", "router"
KINDS = (EMBED, LM_HEAD, LINEAR, NORM, BIAS, ROUTER)

#: bytes per element of safetensors / torch dtype names (sub-byte types packed: see docs)
DTYPE_BYTES: dict[str, float] = {
    "F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2,
    "I16": 2, "U16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1, "I8": 1, "U8": 1,
    "BOOL": 1, "F4": 0.5, "F6_E2M3": 0.75, "F6_E3M2": 0.75,
}

TORCH_DTYPES: dict[str, str] = {
    "bfloat16": "BF16", "float16": "F16", "half": "F16", "float32": "F32", "float": "F32",
    "float64": "F64", "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2",
}


def dtype_name(torch_dtype: str | None) -> str:
    """safetensors name of a config ``torch_dtype`` (BF16 when absent: what engines load)."""
    if not torch_dtype:
        return "BF16"
    key = torch_dtype.lower().removeprefix("torch.")
    return TORCH_DTYPES.get(key, "BF16")


@dataclass(frozen=True)
class ParamEntry:
    """One tensor (or ``count`` identical expert tensors) with its role."""

    name: str
    shape: tuple[int, ...]  # logical element shape of ONE tensor (packed int4 unpacked)
    kind: str
    count: int = 1  # identical copies (routed experts of one layer written once)
    layer: int | None = None
    routed: bool = False  # a routed expert: only top-k of them are active per token
    experts: int = 0  # experts stored in this entry (count, or stacked dim for 3-D tensors)
    mtp: bool = False
    dtype: str | None = None  # stored dtype (headers) — None when from config
    nbytes: int | None = None  # stored bytes of all `count` copies, incl. packing (headers)
    quantize: bool = True  # False: stays at its own dtype even in a quantized checkpoint

    @property
    def numel(self) -> int:
        return math.prod(self.shape) * self.count

    @property
    def matrix(self) -> tuple[int, int]:
        """(rows, columns) of one 2-D slice: output features × input features."""
        if len(self.shape) < 2:
            return (1, math.prod(self.shape))
        return (self.shape[-2], self.shape[-1])

    @property
    def slices(self) -> int:
        """How many 2-D matrices the entry holds (experts stacked or repeated)."""
        if len(self.shape) < 2:
            return self.count
        return math.prod(self.shape[:-2]) * self.count


@dataclass(frozen=True)
class ParameterCount(JsonFields):
    json_omit = frozenset({"entries"})
    json_names = {"side_tensors": "quantization_side_tensors",
                  "side_bytes": "quantization_side_bytes"}

    total: int
    active: int | None
    mtp: int
    by_dtype: dict[str, int]
    method: str  # "headers" | "config"
    breakdown: dict[str, int] = field(default_factory=dict)
    side_tensors: int = 0  # quantization side tensors (scales, zeros, g_idx) not counted
    side_bytes: int = 0
    #: active minus the input-embedding table (a lookup, not a matmul) when it is not tied
    #: to the lm_head — the convention some publishers quote (DeepSeek-V2-Lite's "2.4B")
    active_excluding_embedding: int | None = None
    config_total: int | None = None  # the config formula's total, for cross-checking headers
    config_active: int | None = None
    #: every source that gave a total: headers, index (total_size / dtype width), config
    #: (the family formula) and card (the size the model card states)
    sources: dict[str, int] = field(default_factory=dict)
    #: the family formula used, None when the architecture is not modelled
    modelled_family: str | None = None
    entries: tuple[ParamEntry, ...] = field(default=(), compare=False, hash=False, repr=False)
    findings: tuple[Finding, ...] = ()
