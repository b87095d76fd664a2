"""Exact parameter counts: from tensor headers when weights are present, else from config.json.

Both methods produce the same intermediate form — a list of :class:`ParamEntry`
(one per tensor, or per group of identical expert tensors) tagged with what the
tensor is (embedding, linear, norm, router…), whether it is a routed expert and
whether it belongs to a multi-token-prediction (MTP/nextn) layer. Totals,
active-per-token counts and the sizing analyzer's per-precision byte counts are
all computed from that one list, so "what the config says" and "what the files
hold" are compared like for like.

Definitions (issue 2): *total* counts the main model once (tied embeddings once)
and excludes MTP layers, which are reported separately; *active* counts every
parameter one token passes through: embeddings, attention, dense MLPs, shared
experts, the ``num_experts_per_tok`` routed experts of each MoE layer, routers,
norms and the lm_head.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..findings import Finding, finding
from ..parsers.tensors import TensorInfo
from ..release import Release, ReleaseFile
from .architecture import Architecture
from .paramcount import (
    DTYPE_BYTES,
    ParameterCount,
    count_from_config,
    count_from_tensors,
    dtype_name,
)
from .paramcount.sources import INDEX_NAMES, ShardIndex, StatedSize, read_index, stated_size

# ---- reading the release's weight headers ----------------------------------------------------


@dataclass(frozen=True)
class WeightHeaders:
    """The tensors of the weight files a model loads, and which files they came from."""

    format: str  # safetensors | gguf | pytorch
    files: tuple[str, ...]
    tensors: tuple[TensorInfo, ...]
    quantization: str | None = None  # GGUF file type label (Q4_K_M…)
    findings: tuple[Finding, ...] = ()


def weight_headers(release: Release) -> WeightHeaders | None:
    """Headers of the release's main weights: safetensors first, else a GGUF (split) set.

    Only the files a loader would read are taken: the shards beside the model's
    config.json, without Mistral-style ``consolidated*.safetensors`` duplicates, and
    one GGUF model (the first split set or file by name) when several quantizations
    sit side by side — otherwise parameters would be counted twice.
    """
    from ..parsers.gguf_split import read_gguf_split
    from ..parsers.safetensors import read_safetensors
    from .absent import WEIGHT_SUFFIXES, absent_files

    # Weights still Git LFS pointers, or shards missing, cannot be counted from headers:
    # a part-count would be wrong, so the count comes from the config (method "config").
    if any(a.path.lower().endswith(WEIGHT_SUFFIXES) for a in absent_files(release)):
        return None
    cfg = release.find("config.json")
    base = cfg.path.rsplit("/", 1)[0] if cfg is not None and "/" in cfg.path else ""
    st = [f for f in release.files if f.suffix == ".safetensors"
          and (f.path.rsplit("/", 1)[0] if "/" in f.path else "") == base]
    if any(not f.name.startswith("consolidated") for f in st):
        st = [f for f in st if not f.name.startswith("consolidated")]
    if st:
        tensors: list[TensorInfo] = []
        findings: list[Finding] = []
        for f in sorted(st, key=lambda f: f.path):
            parsed = read_safetensors(f)
            tensors.extend(parsed.tensors)
            findings.extend(parsed.findings)
        return WeightHeaders("safetensors", tuple(f.path for f in st), tuple(tensors),
                             None, tuple(findings))
    ggufs = sorted((f for f in release.files if f.suffix == ".gguf"), key=lambda f: f.path)
    if not ggufs:
        return _torch_headers(release, base)
    first = ggufs[0]
    m = re.match(r"^(?P<stem>.+)-\d{5}-of-(?P<n>\d{5})\.gguf$", first.name)
    if m:
        stem = m["stem"]
        parts = [f for f in ggufs if re.match(re.escape(stem) + r"-\d{5}-of-\d{5}\.gguf$",
                                                f.name)]
    else:
        parts = [first]
    split = read_gguf_split(parts)
    tensors = [t for p in split.parts for t in p.tensors]
    findings = [f for p in split.parts for f in p.findings] + list(split.findings)
    return WeightHeaders("gguf", tuple(p.file for p in split.parts), tuple(tensors),
                         split.parts[0].quantization, tuple(findings))


#: PyTorch files that hold the model's weights (not optimizer or training state).
_TORCH_WEIGHTS = re.compile(r"^(?:pytorch_model|model|consolidated|adapter_model)[\w.-]*\."
                            r"(?:bin|pt|pth|ckpt)$")


def _torch_headers(release: Release, base: str) -> WeightHeaders | None:
    """PyTorch checkpoints read statically, when every one lists its tensors."""
    from ..parsers.detect import detect_format
    from ..parsers.torchzip import read_torch_checkpoint

    single = len(release.files) == 1
    files = [f for f in release.files
             if (single or _TORCH_WEIGHTS.match(f.name))
             and (f.path.rsplit("/", 1)[0] if "/" in f.path else "") == base
             and detect_format(f.head(64 * 1024), f.name) in ("pytorch-zip", "pytorch-legacy")]
    if not files:
        return None
    tensors: list[TensorInfo] = []
    findings: list[Finding] = []
    for f in sorted(files, key=lambda f: f.path):
        arc = read_torch_checkpoint(f)
        if not arc.tensors_known:
            return None
        tensors.extend(arc.tensors)
        findings.extend(arc.findings)
    return WeightHeaders("pytorch", tuple(f.path for f in files), tuple(tensors), None,
                         tuple(findings))


# ---- release-level analyzer ------------------------------------------------------------------

#: relative difference between header and config counts above which we say so
AGREEMENT = 0.005
#: relative difference between any two other sources above which we say so (issue 15)
CROSS_CHECK = 0.01


def find_index(release: Release) -> ReleaseFile | None:
    """The shard index beside the model's config.json (or the shallowest one)."""
    cfg = release.find("config.json")
    base = cfg.path.rsplit("/", 1)[0] + "/" if cfg is not None and "/" in cfg.path else ""
    for name in INDEX_NAMES:
        f = release.get(base + name) or release.find(name)
        if f is not None:
            return f
    return None


def load_index(f: ReleaseFile | None, arch: Architecture | None) -> ShardIndex | None:
    if f is None:
        return None
    dtype = dtype_name(arch.torch_dtype) if arch is not None and arch.torch_dtype else None
    quantized = arch is not None and arch.quantization is not None
    return read_index(f, dtype, quantized)


def _card_size(release: Release | None) -> tuple[StatedSize, str] | None:
    if release is None:
        return None
    for name in ("README.md", "readme.md", "MODEL_CARD.md"):
        f = release.get(name)
        if f is not None:
            found = stated_size(f.read_text(limit=4 * 1024 * 1024))
            return (found, f.path) if found else None
    return None


def analyze(
    release: Release | None, arch: Architecture | None, tensors: Sequence[TensorInfo] | None,
    *, index: ShardIndex | None = None, stated: tuple[StatedSize, str] | None = None,
) -> ParameterCount | None:
    """Counts for a release, each source cross-checked against the others.

    The measured count wins: weight headers, else the shard index's ``total_size``
    over the dtype width, else the config formula — and the formula only for a
    family described in ``data/architectures.toml`` (else MC404, never a guess).
    ``tensors=None`` with a release reads the release's weight headers; pass ``()``
    to skip them. Headers and config more than 0.5% apart is MC401 (the config may
    not describe these weights); any other pair more than 1% apart is MC405, and a
    card whose stated size is off by more than its rounding and 1% is MC406.
    """
    findings: list[Finding] = []
    if tensors is None and release is not None:
        headers = weight_headers(release)
        tensors = headers.tensors if headers else None
    if index is None and release is not None:
        index = load_index(find_index(release), arch)
    if stated is None:
        stated = _card_size(release)
    cfg: ParameterCount | None = None
    if arch is not None and arch.complete and arch.source == "config":
        if arch.modelled:
            cfg = count_from_config(arch)
        else:
            findings.append(not_modelled(arch))
    sources: dict[str, int] = {}
    if tensors:
        result = count_from_tensors(tensors, arch)
        sources["headers"] = result.total
        if cfg is not None:
            diff = abs(result.total - cfg.total) / max(cfg.total, 1)
            if diff > AGREEMENT:
                findings.append(finding(
                    "MC401",
                    f"weights hold {result.total:,} parameters but config.json describes "
                    f"{cfg.total:,} ({diff:.1%} apart)"
                    + (f"; the {arch.wrapper_model_type} wrapper's non-text modules are "
                       "not in the config formula" if arch and arch.wrapper_model_type else ""),
                    file=arch.file if arch else None,
                    headers_total=result.total,
                    config_total=cfg.total,
                ))
        if result.mtp:
            findings.append(_mtp_finding(result, arch))
    elif index is not None and index.params is not None:
        result = _from_index(index, cfg, arch)
    elif cfg is not None:
        result = cfg
        findings.append(finding(
            "MC400",
            f"no weights to read: {cfg.total:,} parameters computed from config.json",
            file=arch.file if arch else None,
        ))
        if cfg.mtp:
            findings.append(_mtp_finding(cfg, arch))
    else:
        return None
    findings += _cross_check(result, cfg, index, tensors, stated, sources)
    return replace(
        result,
        config_total=cfg.total if cfg else None,
        config_active=cfg.active if cfg else None,
        sources=sources,
        modelled_family=arch.family_key if arch is not None else None,
        findings=result.findings + tuple(findings),
    )


def not_modelled(arch: Architecture) -> Finding:
    """MC404: no formula describes this family, so none is applied."""
    return finding(
        "MC404",
        f"architecture {arch.model_type or 'without a model_type'} is not modelled: sizes "
        "from headers/index only; the KV cache assumes standard attention on every layer "
        "from the config's head counts",
        file=arch.file, line=arch.lines.get("model_type"),
    )


def _from_index(index: ShardIndex, cfg: ParameterCount | None,
                arch: Architecture | None) -> ParameterCount:
    """Total from the index; the formula's breakdown kept only when the two agree."""
    total = index.params or 0
    agree = cfg is not None and abs(total - cfg.total) <= CROSS_CHECK * max(cfg.total, 1)
    return ParameterCount(
        total=total,
        active=total if arch is not None and not arch.is_moe else (
            cfg.active if cfg is not None and agree else None),
        mtp=cfg.mtp if cfg is not None and agree else 0,
        by_dtype={index.dtype or "unknown": total},
        method="index",
        breakdown=dict(cfg.breakdown) if cfg is not None and agree else {},
        findings=(finding(
            "MC400",
            f"no weight headers read: {total:,} parameters from {index.file} total_size "
            f"{index.total_size:,} bytes / {DTYPE_BYTES.get(index.dtype or '', 0):g} bytes "
            f"per {index.dtype} parameter",
            file=index.file,
        ),),
    )


def _cross_check(
    result: ParameterCount, cfg: ParameterCount | None, index: ShardIndex | None,
    tensors: Sequence[TensorInfo] | None, stated: tuple[StatedSize, str] | None,
    sources: dict[str, int],
) -> list[Finding]:
    """Every other available source against the measured count (MC405, MC406)."""
    out: list[Finding] = []
    measured = result.total
    if cfg is not None:
        sources["config"] = cfg.total
    if index is not None:
        if index.params is not None:
            sources["index"] = index.params
        if tensors:
            held = sum(t.nbytes for t in tensors)
            if abs(held - index.total_size) > CROSS_CHECK * index.total_size:
                out.append(finding(
                    "MC405",
                    f"weight headers hold {held:,} bytes but {index.file} says total_size "
                    f"{index.total_size:,} ({_apart(held, index.total_size)}); the headers "
                    "are used",
                    file=index.file, headers_bytes=held, index_bytes=index.total_size,
                ))
        elif cfg is not None and index.params is not None and result.method == "index":
            if abs(index.params - cfg.total) > CROSS_CHECK * cfg.total:
                out.append(finding(
                    "MC405",
                    f"{index.file} total_size gives {index.params:,} parameters but the "
                    f"config formula gives {cfg.total:,} ({_apart(index.params, cfg.total)}); "
                    "the plan uses the index (measured)",
                    file=index.file, index_total=index.params, config_total=cfg.total,
                ))
    if stated is not None:
        size, file = stated
        sources["card"] = size.value
        rel = abs(measured - size.value) / max(size.value, 1)
        if rel > size.tolerance + CROSS_CHECK:
            out.append(finding(
                "MC406",
                f"the card states {size.text!r} ({size.value:,}) but the {result.method} "
                f"count is {measured:,} ({_apart(measured, size.value)})",
                file=file, line=size.line, card_total=size.value, measured_total=measured,
            ))
    return out


def _apart(a: int, b: int) -> str:
    return f"{abs(a - b) / max(b, 1):.1%} apart"


def _mtp_finding(count: ParameterCount, arch: Architecture | None) -> Finding:
    n = arch.num_nextn_predict_layers if arch else 0
    return finding(
        "MC402",
        f"{count.mtp:,} parameters in {n or 'extra'} multi-token-prediction layer(s) are "
        "counted separately, not in the total",
        file=arch.file if arch else None,
        line=arch.lines.get("num_nextn_predict_layers") if arch else None,
    )


__all__ = ["AGREEMENT", "CROSS_CHECK", "WeightHeaders", "analyze", "find_index", "load_index",
           "not_modelled", "weight_headers"]
