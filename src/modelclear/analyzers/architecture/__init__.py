"""Architecture facts from ``config.json`` (or GGUF metadata).

Everything sizing needs — parameter formulas, KV-cache layout, tensor-parallel
constraints — is derived from these facts, so they are read once, validated
once (a wrong type is an input error naming config.json, never a traceback
deep inside a formula) and kept with the line each fact came from.

Multimodal wrappers (Llama-4, Gemma-3, Qwen-VL, Mistral-3, …) keep the language
model's facts in ``text_config``; those are read and the wrapper's model_type is
kept beside them, because the hardware question is about the language model.
"""

from __future__ import annotations

from dataclasses import replace

from ...findings import Finding, finding
from ...release import Release, ReleaseFile
from .config import read_architecture, read_config_file
from .gguf import from_gguf_metadata, gguf_metadata
from .model import TEXT_CONFIG_KEYS, Architecture, Quantization
from .quantization import read_quantization
from .reader import parse_config_text


def find_config(release: Release) -> ReleaseFile | None:
    """The model's config.json: top level first, then the shallowest one."""
    return release.find("config.json")


def analyze(release: Release) -> Architecture | None:
    """Architecture of a release: config.json if present, else GGUF metadata, else None."""
    cfg = find_config(release)
    if cfg is not None:
        arch = read_config_file(cfg)
        if arch.quantization is None:
            base = cfg.path.rsplit("/", 1)[0] + "/" if "/" in cfg.path else ""
            legacy = release.get(base + "quantize_config.json")
            if legacy is not None:
                arch = with_quantize_config(arch, legacy)
        if not arch.complete:
            extra = finding(
                "MC403",
                "config.json lacks " + ", ".join(arch.missing())
                + ": parameters and memory cannot be derived from it",
                file=cfg.path,
            )
            arch = _with_findings(arch, (extra,))
        return arch
    ggufs = sorted((f for f in release.files if f.suffix == ".gguf"), key=lambda f: f.path)
    if ggufs:
        return from_gguf_metadata(gguf_metadata(ggufs[0]), ggufs[0].path)
    return None


def with_quantize_config(arch: Architecture, f: ReleaseFile) -> Architecture:
    """AutoGPTQ's legacy ``quantize_config.json`` beside a config without
    ``quantization_config`` (WizardCoder-GPTQ…): the checkpoint is GPTQ, not 16-bit."""
    raw = parse_config_text(f.read_text(limit=1024 * 1024), f.path)
    raw.setdefault("quant_method", "gptq")
    return replace(arch, quantization=read_quantization(raw, f.path))


def _with_findings(arch: Architecture, extra: tuple[Finding, ...]) -> Architecture:
    return replace(arch, findings=arch.findings + extra)


__all__ = [
    "TEXT_CONFIG_KEYS",
    "Architecture",
    "Quantization",
    "analyze",
    "find_config",
    "from_gguf_metadata",
    "gguf_metadata",
    "parse_config_text",
    "read_architecture",
    "read_config_file",
    "with_quantize_config",
]
