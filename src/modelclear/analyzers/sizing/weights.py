"""Weight bytes: the checkpoint as stored, and the served model at each precision.

Every byte comes from one list of parameter entries (headers when weights are
present, the config formula otherwise — see ``paramcount``): linear layers are priced
per precision with the real scale/zero-point layout of that format; embeddings,
norms, routers and the lm_head stay at their real dtype.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import InputError, UsageError
from ...findings import Finding, finding
from ...parsers.ggml import GGMLType, ggml_type
from ...parsers.tensors import TensorInfo
from ..architecture import Architecture, Quantization
from ..paramcount import (
    DTYPE_BYTES,
    LINEAR,
    ROUTER,
    ParamEntry,
    dtype_name,
    entries_from_config,
    entries_from_tensors,
    is_mtp,
    layer_of,
)
from ..paramcount.sources import ShardIndex

#: precisions every plan considers, besides the checkpoint's native one
PRECISIONS = ("bf16", "fp8", "int8", "int4")

#: quantization layout of the what-if precisions (docs/sizing.md)
FP8_BLOCK = (128, 128)  # DeepSeek-style fp8 block scales, float32 each
INT4_GROUP = 128  # GPTQ/AWQ group size: fp16 scale + packed 4-bit zero point per group


def _quantized_in_native(e: ParamEntry, q: Quantization | None) -> bool:
    if q is None or e.kind != LINEAR or not e.quantize:
        return False
    return not any(module_matches(e.name, m) for m in q.not_converted if m)


def module_matches(name: str, pattern: str) -> bool:
    """Whether a tensor belongs to a module named in modules_to_not_convert / ignore.

    Writers use three styles: plain module names (``lm_head``, matched as a dotted
    component run anywhere), globs (``model.layers.*.self_attn``) and
    compressed-tensors regexes (``re:.*mlp.gate$``).
    """
    if pattern.startswith("re:"):
        try:
            return re.search(pattern[3:], name.removesuffix(".weight")) is not None
        except re.error:
            return False
    rx = re.escape(pattern).replace(r"\*", r"[^.]+")
    return re.search(r"(?:^|\.)" + rx + r"(?:\.|$)", name) is not None


def _scale_count(e: ParamEntry, rows_per: int | None, cols_per: int | None) -> int:
    """Scales per entry for blocks of rows_per × cols_per (None = the whole dimension)."""
    rows, cols = e.matrix
    r = math.ceil(rows / rows_per) if rows_per else 1
    c = math.ceil(cols / cols_per) if cols_per else 1
    return e.slices * r * c


def linear_bytes(e: ParamEntry, precision: str) -> int:
    """Bytes of one linear entry stored at a what-if precision, scales included."""
    n = e.numel
    if precision in ("bf16", "fp16"):
        return n * 2
    if precision == "fp8":
        return n + _scale_count(e, *FP8_BLOCK) * 4
    if precision == "int8":
        return n + _scale_count(e, 1, None) * 2  # one bf16 scale per output channel
    if precision == "int4":
        groups = _scale_count(e, 1, INT4_GROUP)
        return math.ceil(n / 2) + groups * 2 + math.ceil(groups / 2)
    t = ggml_precision(precision)
    if t is not None:
        return math.ceil(n / t.block_size) * t.type_size
    raise UsageError(f"unknown precision {precision!r}")


def ggml_precision(precision: str) -> GGMLType | None:
    """A ggml quantization type (Q4_K, Q8_0, IQ2_XXS…) from the one ggml table."""
    t = ggml_type(precision.upper())
    return t if t is not None and t.block_size > 0 and not t.removed else None


def native_linear_bytes(e: ParamEntry, q: Quantization) -> int | None:
    """Bytes of a linear entry in the checkpoint's own quantized format (None: unknown)."""
    n = e.numel
    bits = q.bits or 0
    m = q.method
    if m == "fp8":
        if q.block_size:
            return n + _scale_count(e, q.block_size[0], q.block_size[1]) * 4
        return n + e.slices * 4
    if m in ("gptq", "awq") and bits:
        g = q.group_size
        groups = _scale_count(e, 1, g) if g else _scale_count(e, 1, None)
        packed = math.ceil(n * bits / 8)
        out = packed + groups * 2 + math.ceil(groups * bits / 8)
        if m == "gptq":
            out += e.slices * e.matrix[1] * 4  # g_idx: one int32 per input feature
        return out
    if m == "bitsandbytes":
        if bits == 4:
            blocks = math.ceil(n / 64)
            if q.double_quant:
                return math.ceil(n / 2) + blocks + math.ceil(blocks / 256) * 4 + 16 * 4
            return math.ceil(n / 2) + blocks * 4 + 16 * 4
        return n + _scale_count(e, 1, None) * 4
    if m == "compressed-tensors" and bits:
        packed = math.ceil(n * bits / 8)
        strategy = (q.strategy or "channel").lower()
        if strategy == "tensor":
            scales = e.slices
        elif strategy == "group" and q.group_size:
            scales = _scale_count(e, 1, q.group_size)
        elif strategy == "block" and q.block_size:
            scales = _scale_count(e, q.block_size[0], q.block_size[1])
        else:
            scales = _scale_count(e, 1, None)
        scale_bytes = 4 if (q.fmt or "") == "float" and strategy == "block" else 2
        zeros = scales if q.symmetric is False else 0
        return packed + scales * scale_bytes + zeros
    if m == "mxfp4":
        return math.ceil(n / 2) + math.ceil(n / 32)
    if m == "modelopt":
        if bits == 4:
            return math.ceil(n / 2) + math.ceil(n / 16) + e.slices * 4
        return n + e.slices * 4
    return None


def _kept_bytes(e: ParamEntry, default_dtype: str) -> int:
    """An unquantized tensor at the dtype it is served in."""
    dt = e.dtype or default_dtype
    size = DTYPE_BYTES.get(dt, 2)
    return math.ceil(e.numel * size)


def _whatif_kept_bytes(e: ParamEntry) -> int:
    """Unquantized tensors when serving at a what-if precision: 16-bit, except fp32 routers."""
    return e.numel * (4 if e.kind == ROUTER and e.dtype == "F32" else 2)


@dataclass(frozen=True)
class WeightBytes:
    """Weight memory: the checkpoint as stored, and the served model per precision."""

    native: int  # the checkpoint as stored (headers) or as config describes it, MTP included
    native_main: int  # the same without MTP layers: what an engine loads to serve
    mtp: int
    native_format: str  # e.g. "fp8 block 128x128 + bf16", "bf16", "Q4_K_M"
    method: str  # headers | config
    by_precision: dict[str, int]  # bf16, fp8, int8, int4 (+ ggml types asked for), MTP excluded
    kept_bytes: int  # the unquantized part (embeddings, norms, routers, lm_head) at 16 bit
    findings: tuple[Finding, ...] = ()

    def served(self, precision: str) -> int:
        """Bytes an engine loads at ``precision`` (MTP layers excluded)."""
        if precision == "native":
            return self.native_main
        if precision not in self.by_precision:
            raise UsageError(f"precision {precision!r} was not sized; use native, "
                             + ", ".join(self.by_precision))
        return self.by_precision[precision]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"native": self.native, "native_main": self.native_main,
                               "mtp": self.mtp}
        out.update(self.by_precision)
        out["native_format"] = self.native_format
        out["method"] = self.method
        out["unquantized_bytes"] = self.kept_bytes
        return out


def weight_bytes(
    arch: Architecture | None,
    tensors: Sequence[TensorInfo] | None = None,
    extra_precisions: Sequence[str] = (),
    native_format: str | None = None,
    index: ShardIndex | None = None,
) -> WeightBytes:
    """Weight bytes from headers (exact), else the shard index, else the config formula.

    The formula is used only for a modelled family; an unmodelled one without
    headers is sized from the index alone (native and 16-bit bytes), never guessed.
    """
    precisions = tuple(dict.fromkeys((*PRECISIONS, *extra_precisions)))
    modelled = arch is not None and arch.complete and arch.source == "config" and arch.modelled
    if tensors:
        return _from_headers(arch, tensors, precisions, native_format, modelled)
    if not modelled:
        if arch is not None and arch.complete and arch.source == "config" and index is not None:
            return _from_index_only(arch, index)
        why = (f"architecture {arch.model_type} is not modelled and there are no weight "
               "headers or shard index" if arch is not None and arch.complete
               else "no weight headers and no complete config")
        raise InputError(arch.file if arch else None, why + ": cannot size weights")
    assert arch is not None
    return _from_config(arch, precisions, index)


def _from_headers(
    arch: Architecture | None, tensors: Sequence[TensorInfo], precisions: tuple[str, ...],
    native_format: str | None, modelled: bool,
) -> WeightBytes:
    entries, _, _ = entries_from_tensors(tensors, arch)
    if modelled and arch is not None:
        # Packed checkpoints lose matrix shapes (bitsandbytes, GPTQ's transposed
        # qweight). When the files hold exactly the parameters the config describes,
        # price the what-if precisions on the config's shapes instead.
        cfg_entries = entries_from_config(arch)
        if _numel(cfg_entries) == _numel(entries):
            entries = cfg_entries
    n_layers = arch.num_layers if arch else None
    native = sum(t.nbytes for t in tensors)
    mtp = 0
    if n_layers is not None:
        for t in tensors:
            if is_mtp(t.name, layer_of(t.name), n_layers):
                mtp += t.nbytes
    fmt = native_format or _format_from_tensors(tensors)
    return _priced(entries, native, mtp, fmt, "headers", precisions, ())


def _from_config(arch: Architecture, precisions: tuple[str, ...],
                 index: ShardIndex | None) -> WeightBytes:
    findings: list[Finding] = []
    entries = entries_from_config(arch)
    q = arch.quantization
    base = dtype_name(arch.torch_dtype)
    native = mtp = 0
    unknown = False
    for e in entries:
        b: int | None = None
        if _quantized_in_native(e, q):
            assert q is not None
            b = native_linear_bytes(e, q)
            unknown = unknown or b is None
        if b is None:
            b = _kept_bytes(e, base)
        native += b
        if e.mtp:
            mtp += b
    if unknown and q is not None:
        findings.append(finding(
            "MC420",
            f"quantization method {q.method!r} has no byte formula; native bytes assume "
            f"{base} for its linear layers",
            file=arch.file,
            line=arch.lines.get("quantization_config"),
        ))
    out = _priced(entries, native, mtp, _format_from_config(arch), "config", precisions,
                  tuple(findings))
    if index is None or index.total_size == native:
        return out
    # The shard index is measured: the checkpoint's bytes are what it says, and the
    # what-if precisions scale with it (the formula's layout, the index's size).
    ratio = index.total_size / max(native, 1)
    return WeightBytes(
        native=index.total_size,
        native_main=index.total_size - round(mtp * ratio),
        mtp=round(mtp * ratio),
        native_format=out.native_format,
        method="index",
        by_precision={p: round(v * ratio) for p, v in out.by_precision.items()},
        kept_bytes=round(out.kept_bytes * ratio),
        findings=out.findings,
    )


def _from_index_only(arch: Architecture, index: ShardIndex) -> WeightBytes:
    """An unmodelled architecture: the index's bytes, and 16-bit bytes if params are known."""
    by: dict[str, int] = {}
    if index.params is not None:
        by["bf16"] = index.params * 2
    fmt = (index.dtype or "unknown").lower()
    if arch.quantization is not None:
        fmt = f"{arch.quantization.method} + {fmt}"
    return WeightBytes(index.total_size, index.total_size, 0, fmt, "index", by, 0, ())


def _priced(
    entries: Sequence[ParamEntry], native: int, mtp: int, fmt: str, method: str,
    precisions: tuple[str, ...], findings: tuple[Finding, ...],
) -> WeightBytes:
    main = [e for e in entries if not e.mtp]
    kept = sum(_whatif_kept_bytes(e) for e in main if e.kind != LINEAR)
    linear = [e for e in main if e.kind == LINEAR]
    by_precision = {p: kept + sum(linear_bytes(e, p) for e in linear) for p in precisions}
    return WeightBytes(
        native=native,
        native_main=native - mtp,
        mtp=mtp,
        native_format=fmt,
        method=method,
        by_precision=by_precision,
        kept_bytes=kept,
        findings=findings,
    )


def _numel(entries: Sequence[ParamEntry]) -> tuple[int, int]:
    main = sum(e.numel for e in entries if not e.mtp)
    return main, sum(e.numel for e in entries) - main


def _format_from_config(arch: Architecture) -> str:
    base = dtype_name(arch.torch_dtype).lower()
    q = arch.quantization
    if q is None:
        return base
    if q.method == "fp8":
        blk = "x".join(str(b) for b in q.block_size) if q.block_size else "per-tensor"
        return f"fp8 {q.fmt or 'e4m3'} (block {blk}) + {base}"
    if q.bits:
        grp = f" group {q.group_size}" if q.group_size else ""
        return f"{q.method} {q.bits}-bit{grp} + {base}"
    return f"{q.method} + {base}"


def _format_from_tensors(tensors: Sequence[TensorInfo]) -> str:
    by: dict[str, int] = {}
    for t in tensors:
        by[t.dtype] = by.get(t.dtype, 0) + t.nbytes
    return " + ".join(k for k, _ in sorted(by.items(), key=lambda kv: -kv[1])[:3])
