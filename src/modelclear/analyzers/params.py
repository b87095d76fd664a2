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
from dataclasses import dataclass

from ..findings import Finding, finding
from ..parsers.tensors import TensorInfo
from ..release import Release
from .architecture import Architecture
from .paramcount import ParameterCount, count_from_config, count_from_tensors

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
    from .absent import absent_files

    # Weights still Git LFS pointers, or shards missing, cannot be counted from headers:
    # a part-count would be wrong, so the count comes from the config (method "config").
    weights = (".safetensors", ".gguf", ".bin", ".pt", ".pth", ".ckpt")
    if any(a.path.lower().endswith(weights) for a in absent_files(release)):
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


def analyze(
    release: Release | None, arch: Architecture | None, tensors: Sequence[TensorInfo] | None
) -> ParameterCount | None:
    """Counts for a release: headers when tensors are given, else the config formula.

    ``tensors=None`` with a release reads the release's weight headers
    (:func:`weight_headers`); pass ``()`` to force the config formula.

    When both are available the config formula is computed too and a disagreement
    above 0.5% is a finding (MC401): either the config does not describe these weights
    or the release carries extra modules (a vision tower, adapters…).
    """
    findings: list[Finding] = []
    if tensors is None and release is not None:
        headers = weight_headers(release)
        tensors = headers.tensors if headers else None
    cfg: ParameterCount | None = None
    if arch is not None and arch.complete and arch.source == "config":
        cfg = count_from_config(arch)
    if tensors:
        result = count_from_tensors(tensors, arch)
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
        return _replace(result, cfg, findings)
    if cfg is None:
        return None
    findings.append(finding(
        "MC400",
        f"no weights to read: {cfg.total:,} parameters computed from config.json",
        file=arch.file if arch else None,
    ))
    if cfg.mtp:
        findings.append(_mtp_finding(cfg, arch))
    return _replace(cfg, cfg, findings)


def _mtp_finding(count: ParameterCount, arch: Architecture | None) -> Finding:
    n = arch.num_nextn_predict_layers if arch else 0
    return finding(
        "MC402",
        f"{count.mtp:,} parameters in {n or 'extra'} multi-token-prediction layer(s) are "
        "counted separately, not in the total",
        file=arch.file if arch else None,
        line=arch.lines.get("num_nextn_predict_layers") if arch else None,
    )


def _replace(
    result: ParameterCount, cfg: ParameterCount | None, findings: list[Finding]
) -> ParameterCount:
    from dataclasses import replace

    return replace(
        result,
        config_total=cfg.total if cfg else None,
        config_active=cfg.active if cfg else None,
        findings=result.findings + tuple(findings),
    )


__all__ = ["AGREEMENT", "WeightHeaders", "analyze", "weight_headers"]
