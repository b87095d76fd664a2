"""Every analysis stage, declared once: name, what it reads, how it is computed.

Commands do not sequence analyzers; they ask the engine for the stages whose results
they show (:data:`INSPECT`, :data:`AUDIT`) and the engine runs what those need, once.
Each stage imports its analyzer when it runs (``inventory.analyze`` through the
module, not bound at import): a command loads only the analyzers its stages use —
``inspect`` never imports the license catalog or the policy — and a test can replace
one analyzer and see the isolation work.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..config import Config
from ..errors import InputError
from ..findings import Finding, finding
from .core import Engine, Stage, StageState, Unavailable

if TYPE_CHECKING:
    from ..analyzers.architecture import Architecture
    from ..analyzers.card import Card
    from ..analyzers.inventory import Inventory
    from ..analyzers.license.model import LicenseReport
    from ..analyzers.paramcount import ParameterCount
    from ..analyzers.params import WeightHeaders
    from ..analyzers.policy.model import PolicyResult
    from ..analyzers.security.model import SecurityReport
    from ..analyzers.sizing import SizingReport
    from ..analyzers.weights import Weights

#: Small JSON files the remote-code and embedded-component checks read.
CONFIG_FILES = ("config.json", "tokenizer_config.json")
MAX_CONFIG_BYTES = 4 * 1024 * 1024
#: License-like documents read whole (bounded) so checks can quote clauses.
MAX_LICENSE_TEXT = 2 * 1024 * 1024
LICENSE_NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "USE_POLICY", "MODEL_LICENSE")


@runtime_checkable
class HasFindings(Protocol):
    """Every analyzer result carries its findings (a field or a property)."""

    @property
    def findings(self) -> tuple[Finding, ...]: ...


def _inventory(e: Engine) -> Inventory:
    from ..analyzers import inventory

    return inventory.analyze(e.release)


INVENTORY: Stage[Inventory] = Stage("inventory", (), _inventory)


def _weights(e: Engine) -> Weights:
    from ..analyzers import weights

    return weights.analyze(e.release, e.need(INVENTORY))


WEIGHTS: Stage[Weights] = Stage("weights", (INVENTORY,), _weights)
def _card(e: Engine) -> Card | None:
    from ..analyzers import card

    return card.analyze(e.release)


CARD: Stage[Card] = Stage("card", (), _card,
                          empty="no model card")
def _license(e: Engine) -> LicenseReport:
    from ..analyzers.license import analyze as license
    from ..sources.hfcache import open_cached

    return license.analyze(e.release, card=_card_or_none(e), open_base=open_cached)


def _security(e: Engine) -> SecurityReport:
    """The scan, plus every weights file the release names but does not hold (a shard
    an index lists) as ``unsupported``: bytes that are not here were not examined."""
    from ..analyzers import security
    from ..analyzers.absent import absent_files
    from ..analyzers.security.model import FileReport

    report = security.analyze(e.release, e.progress)
    missing = [a for a in absent_files(e.release) if a.reason == "missing-shard"]
    if not missing:
        return report
    extra = tuple(FileReport(
        path=a.path, kind="absent", status="unsupported",
        findings=(finding("MC108", f"{a.path} is {a.what}: its weights were not downloaded",
                          file=a.declared_by, quote=a.path.rsplit("/", 1)[-1]),),
        imports=(), pickle=False) for a in missing)
    return dataclasses.replace(report, files=report.files + extra)


def _architecture(e: Engine) -> Architecture | None:
    from ..analyzers import architecture

    return architecture.analyze(e.release)


def _headers(e: Engine) -> WeightHeaders | None:
    from ..analyzers import params

    return params.weight_headers(e.release)


def _card_or_none(e: Engine) -> Card | None:
    return e.optional(CARD)


LICENSE: Stage[LicenseReport] = Stage("license", (CARD,), _license)
SECURITY: Stage[SecurityReport] = Stage("security", (), _security)
ARCHITECTURE: Stage[Architecture] = Stage("architecture", (), _architecture,
                                          empty="no config.json or GGUF metadata")
HEADERS: Stage[WeightHeaders] = Stage("weight headers", (), _headers,
                                      empty="no weight headers")


def _params(e: Engine) -> ParameterCount | None:
    """Counts from the headers when there are weights (the bytes decide), else the
    config formula; both when both exist, so a disagreement is a finding."""
    from ..analyzers import params

    headers = e.optional(HEADERS)
    return params.analyze(e.release, e.optional(ARCHITECTURE),
                          headers.tensors if headers is not None else ())


PARAMS: Stage[ParameterCount] = Stage("params", (HEADERS, ARCHITECTURE), _params,
                                      empty="no weights and no config to count from")


def _sizing(e: Engine) -> SizingReport:
    arch = e.need(ARCHITECTURE)
    if not arch.complete:
        raise Unavailable("config lacks " + ", ".join(arch.missing()))
    headers = e.optional(HEADERS)
    from ..analyzers import params, sizing

    index = params.load_index(params.find_index(e.release), arch)
    if not arch.modelled and arch.source == "config" and headers is None and index is None:
        raise Unavailable(f"architecture {arch.model_type} is not modelled and there are no "
                          "weight headers or shard index (MC404)")
    return sizing.plan(
        arch, params=e.optional(PARAMS),
        tensors=headers.tensors if headers is not None else None,
        model=e.release.source.model_id or str(e.release.root),  # a path engines can load
        gguf=headers is not None and headers.format == "gguf",
        native_format=headers.quantization if headers is not None else None,
        index=index,
    )


SIZING: Stage[SizingReport] = Stage("sizing", (ARCHITECTURE, HEADERS, PARAMS), _sizing)


def _configs(e: Engine) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in CONFIG_FILES:
        f = e.release.find(name)
        if f is None or f.size > MAX_CONFIG_BYTES:
            continue
        try:
            out[f.path] = json.loads(f.read_text(MAX_CONFIG_BYTES))
        except (InputError, ValueError):
            continue  # malformed configs are the inventory/architecture stages' findings
    return out


CONFIGS: Stage[dict[str, Any]] = Stage("configs", (), _configs)


def _license_texts(e: Engine) -> dict[str, str]:
    """The full text of every license-like document, so checks can quote clauses."""
    report, inventory = e.optional(LICENSE), e.optional(INVENTORY)
    paths: list[str] = [m.file for m in report.licenses] if report is not None else []
    if inventory is not None:
        for comp in ("license", "notice", "acceptable-use-policy"):
            paths += [f.path for f in inventory.by_component(comp)]
    else:
        paths += [f.path for f in e.release.files if f.name.upper().startswith(LICENSE_NAMES)]
    out: dict[str, str] = {}
    for p in dict.fromkeys(paths):
        f = e.release.get(p)
        if f is None or f.size > MAX_LICENSE_TEXT:
            continue
        try:
            out[p] = f.read_text(MAX_LICENSE_TEXT)
        except InputError:
            continue  # not text: the license stage reports it
    return out


LICENSE_TEXTS: Stage[dict[str, str]] = Stage("license texts", (LICENSE, INVENTORY),
                                             _license_texts)


def _embedded(e: Engine) -> dict[str, str]:
    """Components carried inside other files, so openness does not call them absent.

    A chat template usually lives in tokenizer_config.json; a GGUF file carries its
    tokenizer, chat template and architecture in its metadata (read by the bounded
    GGUF header parser, cached per file, so this costs no extra read).
    """
    out: dict[str, str] = {}
    for path, cfg in e.need(CONFIGS).items():
        if isinstance(cfg, dict) and cfg.get("chat_template"):
            out.setdefault("chat-template", f"{path} (chat_template)")
    ggufs = [f for f in e.release.files if f.suffix == ".gguf"]
    if ggufs:
        from ..parsers.gguf import read_gguf

        try:
            meta = read_gguf(ggufs[0])
        except InputError:
            return out  # a malformed GGUF is the inventory/security stages' finding
        keys = set(meta.metadata)
        where = ggufs[0].path
        if "tokenizer.ggml.model" in keys or "tokenizer.ggml.tokens" in keys:
            out.setdefault("tokenizer", f"{where} (tokenizer.ggml.*)")
        if any(k.startswith("tokenizer.chat_template") for k in keys):
            out.setdefault("chat-template", f"{where} (tokenizer.chat_template)")
        if meta.architecture:
            out.setdefault("config", f"{where} (general.architecture and {meta.architecture}.*)")
    return out


EMBEDDED: Stage[dict[str, str]] = Stage("embedded", (CONFIGS,), _embedded)


def _hashes(e: Engine) -> dict[str, str]:
    """sha256 of every file; for content that is not here (a Git LFS pointer, a hub file
    read by range) the sha256 its publisher declares, never the pointer's own bytes."""
    from ..hashing import hash_files
    from ..parsers.lfs import declared_content

    declared = {f.path: d.sha256 for f in e.release.files
                if (d := declared_content(f)) is not None}
    read = hash_files([f for f in e.release.files if f.path not in declared], e.progress)
    return {f.path: declared.get(f.path) or read[f.path] for f in e.release.files}


HASHES: Stage[dict[str, str]] = Stage("hashes", (), _hashes)


def _hash_findings(e: Engine) -> tuple[Finding, ...]:
    """A cache blob whose content does not hash to its name (MC103)."""
    hashes = e.need(HASHES)
    return tuple(
        finding("MC103", f"cache blob is named {f.claimed_sha256} but its content hashes to "
                f"{hashes[f.path]}", file=f.path)
        for f in e.release.files
        if f.claimed_sha256 and hashes.get(f.path) not in (None, f.claimed_sha256)
    )


HASH_FINDINGS: Stage[tuple[Finding, ...]] = Stage("hash check", (HASHES,), _hash_findings)

#: What ``inspect`` shows: the release's contents, read from headers.
INSPECT: tuple[Stage[Any], ...] = (INVENTORY, WEIGHTS, ARCHITECTURE, PARAMS, CARD)
#: What an audit shows; every inspect stage is in it, so their findings agree.
AUDIT: tuple[Stage[Any], ...] = (*INSPECT, LICENSE, SECURITY, SIZING)
#: What a record needs besides hashes when the audit pipeline is not run.
RECORD: tuple[Stage[Any], ...] = (INVENTORY, CARD, LICENSE, ARCHITECTURE)
#: The stages whose outcome reports list (helpers such as configs are not analyses).
REPORTED: tuple[Stage[Any], ...] = (INVENTORY, WEIGHTS, CARD, LICENSE, SECURITY, ARCHITECTURE,
                                    PARAMS, SIZING)


def findings_of(e: Engine, stages: tuple[Stage[Any], ...]) -> tuple[Finding, ...]:
    """Every finding of the given stages that ran, once, in stage order."""
    out: list[Finding] = []
    for stage in stages:
        value = e.get(stage)
        if value is None:
            continue
        if isinstance(value, tuple):
            out.extend(x for x in value if isinstance(x, Finding))
            continue
        if isinstance(value, HasFindings):
            out.extend(value.findings)
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for f in out:
        key = (f.code, f.file, f.line, f.offset, f.message)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return tuple(unique)


def _policy(e: Engine) -> PolicyResult:
    """The profile's verdict over everything else; a bug here must not pass silently,
    so this stage is not isolated (a failed verdict is an error, never a CLEAR)."""
    from ..analyzers.policy import PolicyInputs, evaluate, hardware

    profile = e.options.profile
    if profile is None:
        raise Unavailable("no deployment profile given")
    inventory = e.optional(INVENTORY)
    by_path = {f.path: f for f in inventory.files} if inventory is not None else {}
    inputs = PolicyInputs(
        scope="release",
        license=e.optional(LICENSE),
        license_texts=e.need(LICENSE_TEXTS),
        model_id=e.release.source.model_id,
        files=tuple((f.path, by_path[f.path].component if f.path in by_path else None,
                     by_path[f.path].format if f.path in by_path else None)
                    for f in e.release.files),
        card=e.optional(CARD),
        security=e.optional(SECURITY),
        sizing=e.optional(SIZING),
        probe_results=e.options.probe_results,
        missing={o.name: o.text for o in e.outcomes if o.state is not StageState.OK},
        configs=e.need(CONFIGS),
    )
    return evaluate(inputs, profile, **policy_settings(e.options.config),
                    hardware_fit=hardware.fit)


def policy_settings(config: Config) -> dict[str, Any]:
    """How the configuration reaches the verdict: ignored codes are shown but not counted."""
    return {"ignore": config.ignored_codes(),
            "severity": {k: str(v) for k, v in config.severity.items()}}


POLICY: Stage[PolicyResult] = Stage(
    "policy", (INVENTORY, LICENSE, LICENSE_TEXTS, CARD, SECURITY, SIZING, CONFIGS), _policy,
    isolate=False)
