"""``quantization_config`` → :class:`Quantization`, for every writer's dialect."""

from __future__ import annotations

from typing import Any

from ...errors import InputError
from .model import Quantization
from .reader import Reader


def read_quantization(q: dict[str, Any] | None, file: str) -> Quantization | None:
    if q is None:
        return None
    r = Reader(q, file, "quantization_config.")
    method = (r.str_("quant_method") or "").lower()
    not_conv = tuple(
        str(x)
        for x in (q.get("modules_to_not_convert") or q.get("ignore") or [])
        if isinstance(x, str)
    )
    if method == "fp8" or (not method and "weight_block_size" in q):
        block = r.int_list("weight_block_size") or None
        if block is not None and len(block) != 2:
            raise InputError(file, "quantization_config.weight_block_size must have 2 entries")
        fmt = r.str_("fmt") or "e4m3"
        return Quantization("fp8", 8, None, block, fmt, "block" if block else "tensor",
                            None, None, not_conv, q)
    if method in ("gptq", "awq", "marlin", "gptq_marlin", "awq_marlin", "exl2", "hqq"):
        bits = r.int_("bits") or r.int_("w_bit") or r.int_("nbits") or 4
        group = q.get("group_size", q.get("q_group_size", 128))
        if isinstance(group, bool) or not isinstance(group, int):
            raise InputError(file, "quantization_config.group_size must be an integer")
        sym = q.get("sym")
        return Quantization(
            method.split("_")[0], bits, group if group > 0 else None, None, "int",
            "group" if group > 0 else "channel",
            bool(sym) if isinstance(sym, bool) else None, None, not_conv, q,
        )
    if method == "bitsandbytes" or "load_in_4bit" in q or "load_in_8bit" in q:
        four = r.bool_("load_in_4bit", False)
        return Quantization(
            "bitsandbytes", 4 if four else 8, 64 if four else None, None,
            (r.str_("bnb_4bit_quant_type") or "nf4") if four else "int8",
            "block" if four else "channel", None,
            r.bool_("bnb_4bit_use_double_quant", False) if four else None,
            tuple(
                str(x) for x in (q.get("llm_int8_skip_modules") or []) if isinstance(x, str)
            ) or not_conv,
            q,
        )
    if method == "compressed-tensors" or "config_groups" in q:
        groups = q.get("config_groups")
        if groups is not None and not isinstance(groups, dict):
            raise InputError(file, "quantization_config.config_groups must be an object")
        for g in (groups or {}).values():
            w = g.get("weights") if isinstance(g, dict) else None
            if not isinstance(w, dict):
                continue
            wr = Reader(w, file, "quantization_config.config_groups.weights.")
            return Quantization(
                "compressed-tensors",
                wr.int_("num_bits"),
                wr.int_("group_size"),
                wr.int_list("block_structure") or None,
                wr.str_("type"),
                wr.str_("strategy"),
                w.get("symmetric") if isinstance(w.get("symmetric"), bool) else None,
                None,
                not_conv,
                q,
            )
        return Quantization("compressed-tensors", raw=q, not_converted=not_conv)
    if method in ("mxfp4", "modelopt", "fbgemm_fp8", "quark"):
        algo = str(q.get("quant_algo") or "").lower()
        bits = 4 if ("4" in algo or method == "mxfp4") else 8
        group = 32 if method == "mxfp4" else (16 if "nvfp4" in algo else None)
        return Quantization(method, bits, group, None, algo or method, None, None, None,
                            not_conv, q)
    return Quantization(method or "unknown", r.int_("bits"), None, None, None, None, None, None,
                        not_conv, q)
