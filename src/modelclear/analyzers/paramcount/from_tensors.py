"""Parameter entries from tensor headers: exact, packed integer weights unpacked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ...parsers.tensors import TensorInfo
from ..architecture import Architecture
from .model import DTYPE_BYTES, ParamEntry, ParameterCount
from .names import (
    EXPERT_RE,
    NUMBERS_RE,
    PACKED_RE,
    STACKED_EXPERT_RE,
    classify,
    is_mtp,
    is_side_tensor,
    layer_of,
)
from .summary import summarize


def _logical_shape(
    t: TensorInfo, packed: bool, qbits: int, four_bit: bool, names: set[str] | None
) -> tuple[int, ...]:
    """A packed integer tensor's shape in weights, not storage elements."""
    shape = tuple(t.shape)
    factor = 1
    if packed and t.dtype in ("I32", "U32", "I64", "I16", "U8", "I8"):
        factor = max(1, round(DTYPE_BYTES[t.dtype] * 8 / qbits))
    elif t.dtype == "U8" and names and (
        f"{t.name}.absmax" in names
        or f"{t.name}.quant_state.bitsandbytes__nf4" in names
        or f"{t.name}.quant_state.bitsandbytes__fp4" in names
        or t.name.endswith("_blocks")
        or (four_bit and _sibling(t.name, "weight_scale") in names)
    ):
        factor = 2
    if factor != 1 and len(shape) == 2 and shape[-1] == 1:
        # bitsandbytes stores a flat column of bytes; the matrix shape lives in the
        # quant_state JSON. Keep it a (1, n) linear so it is priced as one long row.
        shape = (1, shape[0] * factor)
    elif factor != 1:
        shape = shape[:-1] + (shape[-1] * factor,) if shape else shape
    return shape


def entries_from_tensors(
    tensors: Sequence[TensorInfo], arch: Architecture | None
) -> tuple[list[ParamEntry], int, int]:
    """Header tensors → entries (parameters only), side-tensor count and side bytes.

    Packed integer weights (GPTQ/AWQ ``qweight``, compressed-tensors ``weight_packed``,
    bitsandbytes 4-bit ``weight`` bytes) are counted by their logical element count:
    storage elements × (storage bits ÷ weight bits).
    """
    q = arch.quantization if arch else None
    qbits = (q.bits if q and q.bits else 4) if q else 4
    names: set[str] | None = None  # built only if a U8 tensor needs its siblings looked up
    n_layers = arch.num_layers if arch else None
    n_experts = arch.num_experts if arch else None
    out: list[ParamEntry] = []
    side_n = side_b = 0
    facts: dict[str, tuple[bool, bool, bool, bool]] = {}
    kinds: dict[tuple[str, int], str] = {}
    groups: dict[tuple[object, ...], list[int]] = {}
    for t in tensors:
        # Tensor names repeat with only their layer/expert numbers changed (92k names, a
        # few dozen shapes in DeepSeek-V3): judge each name shape once, not each name.
        template = NUMBERS_RE.sub(".#", t.name)
        f = facts.get(template)
        if f is None:
            f = facts[template] = (
                is_side_tensor(t.name), bool(PACKED_RE.search(t.name)),
                bool(STACKED_EXPERT_RE.search(t.name)), bool(EXPERT_RE.search(t.name)),
            )
        side, packed, stacked, routed = f
        if side:
            side_n += 1
            side_b += t.nbytes
            continue
        if packed or t.dtype == "U8":
            if names is None and t.dtype == "U8" and not packed:
                names = {t.name for t in tensors}
            shape = _logical_shape(t, packed, qbits, q is not None and q.bits == 4, names)
        else:
            shape = tuple(t.shape)
        kind = kinds.get((template, len(shape)))
        if kind is None:
            kind = kinds[(template, len(shape))] = classify(t.name, len(shape))
        layer = layer_of(t.name)
        mtp = is_mtp(t.name, layer, n_layers)
        routed = routed or stacked
        experts = 0
        if stacked:
            experts = n_experts or (shape[0] if len(shape) >= 3 else 0)
        elif routed:
            # One entry per (layer, tensor shape) with a count, as the config formula
            # writes them: 256 experts × 3 projections are 3 entries, not 768.
            key = (template, layer, shape, t.dtype, mtp)
            group = groups.get(key)
            if group is not None:
                group[1] += 1
                continue
            groups[key] = [len(out), 1]
        out.append(
            ParamEntry(
                name=t.name, shape=shape, kind=kind, layer=layer, routed=routed,
                experts=experts, mtp=mtp, dtype=t.dtype, nbytes=t.nbytes,
            )
        )
    for index, count in groups.values():
        if count > 1:
            out[index] = replace(out[index], count=count, experts=count,
                                 nbytes=out[index].nbytes * count)  # type: ignore[operator]
    return out, side_n, side_b


def _sibling(name: str, leaf: str) -> str:
    return name.rsplit(".", 1)[0] + "." + leaf if "." in name else leaf


def count_from_tensors(
    tensors: Sequence[TensorInfo], arch: Architecture | None
) -> ParameterCount:
    """Exact count from weight headers (method ``headers``)."""
    entries, side_n, side_b = entries_from_tensors(tensors, arch)
    return summarize(entries, arch, "headers", None, side_n, side_b)
