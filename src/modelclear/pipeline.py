"""Run every available analyzer on a release once, and the policy on top.

``run`` is the one place that knows the order (inventory → card → license →
security → architecture/params/sizing → policy) so ``audit``, ``check``,
``record`` and ``demo`` all see the same results. An analyzer that fails on this
release (a bug, an unsupported layout) is recorded in ``AuditResult.analyzers``
and the policy says REVIEW "not analysed" for what depended on it. Bad input
(``InputError``) is not swallowed: a half-read release must not produce a clearance.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .analyzers import architecture as arch_mod
from .analyzers import card as card_mod
from .analyzers import inventory as inv_mod
from .analyzers import params as params_mod
from .analyzers import security as sec_mod
from .analyzers import sizing as sizing_mod
from .analyzers.license import analyze as lic_mod
from .analyzers.policy import PolicyInputs, PolicyResult, Profile, evaluate
from .analyzers.policy.model import Status
from .config import Config
from .errors import InputError
from .progress import SILENT, ProgressSink
from .release import Release, SourceInfo

SCHEMA_VERSION = "1.0"

#: Components of an open release, in the order a reviewer reads them (openness checklist).
OPENNESS = (
    "weights",
    "config",
    "tokenizer",
    "chat-template",
    "model-card",
    "license",
    "acceptable-use-policy",
    "inference-code",
    "training-code",
    "evaluation-code",
    "evaluation-data",
    "dataset",
)

#: Small JSON files the remote-code check reads (bounded: 4 MiB).
CONFIG_FILES = ("config.json", "tokenizer_config.json")
#: License-like documents read whole (bounded) so checks can quote clauses.
MAX_LICENSE_TEXT = 2 * 1024 * 1024


def _to_json(obj: Any) -> Any:
    """Best JSON form of an analyzer result, whatever its type."""
    if obj is None:
        return None
    if hasattr(obj, "to_json"):
        return obj.to_json()
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return json.loads(json.dumps(dataclasses.asdict(obj), default=str))
    if isinstance(obj, (list, tuple)):
        return [_to_json(x) for x in obj]
    return obj


@dataclass(frozen=True)
class AuditResult:
    """Everything known about one release, and the verdict for one profile."""

    target: str
    source: SourceInfo
    files: tuple[tuple[str, int], ...]
    analyzers: dict[str, str]  # name → "ok" | "failed: …" | "skipped: …"
    generated_at: str
    inventory: Any | None = None
    card: Any | None = None
    license: Any | None = None
    security: Any | None = None
    architecture: Any | None = None
    params: Any | None = None
    sizing: Any | None = None
    profile: Profile | None = None
    policy: PolicyResult | None = None
    probe_results: dict[str, Any] | None = None
    license_texts: dict[str, str] = field(default_factory=dict, repr=False)
    #: components carried inside another file (a chat template in tokenizer_config.json)
    embedded: dict[str, str] = field(default_factory=dict)

    @property
    def verdict(self) -> Status | None:
        return self.policy.verdict if self.policy is not None else None

    def components(self) -> dict[str, bool] | None:
        """Openness checklist: component → present; None when inventory did not run."""
        if self.inventory is None:
            return None
        present = set(self.inventory.components()) | set(self.embedded)
        return {c: c in present for c in OPENNESS}

    def open_meanings(self) -> list[tuple[str, bool | None, str]]:
        """The three things "open" is used for: open weights, open source, open license.

        Missing entries mean the release does not let us tell (no inventory, no license
        analysis).
        """
        from .analyzers.policy.checks import primary_license

        comps = self.components()
        out: list[tuple[str, bool | None, str]] = []
        if comps is not None:
            out.append(("open weights", comps["weights"],
                        "weights present" if comps["weights"] else "no weights in the release"))
            kinds = ("training-code", "dataset", "evaluation-data")
            have = [c for c in kinds if comps[c]]
            lack = [c for c in kinds if not comps[c]]
            why = "; ".join(filter(None, ["has " + ", ".join(have) if have else "",
                                          "no " + ", no ".join(lack) if lack else ""]))
            out.append(("open source", comps["training-code"] and comps["dataset"], why))
        if self.license is not None:
            lic = primary_license(self.license)
            osi = bool(lic is not None and lic.osi_approved)
            out.append(("open license", osi,
                        f"{lic.id} is {'' if osi else 'not '}OSI-approved" if lic is not None
                        else "no license identified"))
        return out

    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "modelclear", "version": __version__},
            "generated_at": self.generated_at,
            "target": self.target,
            "source": dataclasses.asdict(self.source),
            "files": [{"path": p, "size": s} for p, s in self.files],
            "analyzers": dict(self.analyzers),
            "openness": self.components(),
            "embedded_components": dict(self.embedded),
            "open": [{"meaning": n, "holds": ok, "why": why} for n, ok, why in
                     self.open_meanings()],
            "inventory": _to_json(self.inventory),
            "card": _card_json(self.card),
            "license": _to_json(self.license),
            "security": _to_json(self.security),
            "architecture": _to_json(self.architecture),
            "params": _to_json(self.params),
            "sizing": _to_json(self.sizing),
            "profile": self.profile.to_json() if self.profile is not None else None,
            "policy": self.policy.to_json() if self.policy is not None else None,
            "probe_results": self.probe_results,
        }


def _card_json(card: Any) -> Any:
    if card is None:
        return None
    data = _to_json(card)
    if isinstance(data, dict):
        data.pop("text", None)  # the card text is in the release; keep the report small
    return data


class _Runner:
    """Calls analyzers, noting which failed instead of crashing."""

    def __init__(self, progress: ProgressSink) -> None:
        self.status: dict[str, str] = {}
        self.progress = progress

    def call(self, name: str, fn: Callable[[], Any]) -> Any | None:
        try:
            result = fn()
        except InputError:
            raise
        except Exception as exc:  # one analyzer's bug must not hide the others' results
            self.status[name] = f"failed: {type(exc).__name__}: {exc}"[:300]
            return None
        self.status[name] = "ok"
        self.progress.advance("audit", 1)
        return result

    def why(self, name: str) -> str:
        return self.status.get(name, "not run")


def _read_texts(release: Release, paths: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in paths:
        f = release.get(p)
        if f is None or f.size > MAX_LICENSE_TEXT:
            continue
        try:
            out[p] = f.read_text(MAX_LICENSE_TEXT)
        except InputError:
            continue  # not text: the license analyzer reports it
    return out


def _configs(release: Release) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in CONFIG_FILES:
        f = release.find(name)
        if f is None or f.size > 4 * 1024 * 1024:
            continue
        try:
            out[f.path] = json.loads(f.read_text(4 * 1024 * 1024))
        except (InputError, ValueError):
            continue  # malformed configs are the inventory/architecture analyzers' findings
    return out


def _license_paths(release: Release, license_report: Any, inventory: Any) -> list[str]:
    paths: list[str] = []
    if license_report is not None:
        paths += [m.file for m in license_report.licenses]
    if inventory is not None:
        for comp in ("license", "notice", "acceptable-use-policy"):
            paths += [f.path for f in inventory.by_component(comp)]
    else:
        paths += [f.path for f in release.files if f.name.upper().startswith(
            ("LICENSE", "LICENCE", "COPYING", "NOTICE", "USE_POLICY", "MODEL_LICENSE"))]
    return list(dict.fromkeys(p for p in paths if release.get(p) is not None))


def _sizing(runner: _Runner, release: Release) -> tuple[Any, Any, Any]:
    """Architecture, parameter count and sizing plans, as ``modelclear plan`` computes them."""
    arch = runner.call("architecture", lambda: arch_mod.analyze(release))
    if arch is None:
        if runner.status.get("architecture") == "ok":  # ran, found nothing to read
            runner.status["architecture"] = "skipped: no config.json or GGUF metadata"
        runner.status["sizing"] = "skipped: no architecture"
        return None, None, None
    headers = runner.call("weight headers", lambda: params_mod.weight_headers(release))
    tensors = headers.tensors if headers is not None else None
    params = runner.call("params", lambda: params_mod.analyze(release, arch, tensors))
    if not getattr(arch, "complete", True):
        runner.status["sizing"] = "skipped: config lacks " + ", ".join(arch.missing())
        return arch, params, None
    sizing = runner.call("sizing", lambda: sizing_mod.plan(
        arch, params=params, tensors=tensors, model=release.source.model_id or release.root.name,
        gguf=headers is not None and headers.format == "gguf",
        native_format=headers.quantization if headers is not None else None,
    ))
    return arch, params, sizing


def run(
    release: Release,
    profile: Profile | None = None,
    *,
    progress: ProgressSink = SILENT,
    probe_results: dict[str, Any] | None = None,
    config: Config | None = None,
    target: str | None = None,
) -> AuditResult:
    """Analyse ``release`` once with every available analyzer; evaluate ``profile`` if given."""
    runner = _Runner(progress)
    progress.start("audit", "analysing", total=9)

    inventory = runner.call("inventory", lambda: inv_mod.analyze(release))
    card = runner.call("card", lambda: card_mod.analyze(release))
    license_report = runner.call("license", lambda: lic_mod.analyze(release))
    security = runner.call("security", lambda: sec_mod.analyze(release, progress))
    arch, params, sizing = _sizing(runner, release)

    texts = _read_texts(release, _license_paths(release, license_report, inventory))
    configs = _configs(release)
    embedded = _embedded(release, configs)
    files = tuple(
        (f.path, getattr(inv, "component", None), getattr(inv, "format", None))
        for f, inv in _inventory_pairs(release, inventory)
    )
    policy = None
    if profile is not None:
        missing = {k: v for k, v in runner.status.items() if v != "ok"}
        inputs = PolicyInputs(
            scope="release",
            license=license_report,
            license_texts=texts,
            model_id=release.source.model_id,
            files=files,
            card=card,
            security=security,
            sizing=sizing,
            probe_results=probe_results,
            missing=missing,
            configs=configs,
        )
        cfg = config or Config()
        policy = evaluate(inputs, profile, ignore=cfg.ignored_codes(),
                          severity={k: str(v) for k, v in cfg.severity.items()},
                          hardware_fit=_hardware_fit())
    progress.advance("audit", 1)
    return AuditResult(
        target=target or release.source.model_id or release.source.location,
        source=release.source,
        files=tuple((f.path, f.size) for f in release.files),
        analyzers=dict(runner.status),
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        inventory=inventory,
        card=card,
        license=license_report,
        security=security,
        architecture=arch,
        params=params,
        sizing=sizing,
        profile=profile,
        policy=policy,
        probe_results=probe_results,
        license_texts=texts,
        embedded=embedded,
    )


def _embedded(release: Release, configs: dict[str, Any]) -> dict[str, str]:
    """Components carried inside other files, so openness does not call them absent.

    A chat template usually lives in tokenizer_config.json; a GGUF file carries its
    tokenizer, chat template and architecture in its metadata (read by the bounded
    GGUF header parser, cached per file, so this costs no extra read).
    """
    out: dict[str, str] = {}
    for path, cfg in configs.items():
        if isinstance(cfg, dict) and cfg.get("chat_template"):
            out.setdefault("chat-template", f"{path} (chat_template)")
    ggufs = [f for f in release.files if f.suffix == ".gguf"]
    if ggufs:
        try:
            from .parsers.gguf import read_gguf

            meta = read_gguf(ggufs[0])
        except (ImportError, InputError):
            return out  # a malformed GGUF is the inventory/security analyzers' finding
        keys = set(meta.metadata)
        where = ggufs[0].path
        if "tokenizer.ggml.model" in keys or "tokenizer.ggml.tokens" in keys:
            out.setdefault("tokenizer", f"{where} (tokenizer.ggml.*)")
        if any(k.startswith("tokenizer.chat_template") for k in keys):
            out.setdefault("chat-template", f"{where} (tokenizer.chat_template)")
        if meta.architecture:
            out.setdefault("config", f"{where} (general.architecture and {meta.architecture}.*)")
    return out


def _inventory_pairs(release: Release, inventory: Any) -> list[tuple[Any, Any]]:
    by_path = {f.path: f for f in getattr(inventory, "files", ())} if inventory else {}
    return [(f, by_path.get(f.path)) for f in release.files]


def _hardware_fit() -> Callable[[Any, Any], tuple[Status, str, str]] | None:
    try:
        from .analyzers import sizing  # noqa: F401  (the fit re-plans with it)
    except ModuleNotFoundError:
        return None
    from .analyzers.policy import hardware

    return hardware.fit


def is_license_document(target: str) -> bool:
    """Whether a target names a single text file (a bare license), not a release."""
    from .parsers.detect import detect_format

    p = Path(target)
    if not p.is_file():
        return False
    try:
        with open(p, "rb") as fh:
            head = fh.read(64 * 1024)
    except OSError as exc:
        raise InputError(target, f"cannot read: {exc.strerror or exc}") from None
    return detect_format(head, p.name) in ("text", "markdown")


def read_license_document(target: str) -> tuple[str, str]:
    """(display name, text) of a bare license file, bounded and UTF-8 checked."""
    p = Path(target)
    size = p.stat().st_size
    if size > MAX_LICENSE_TEXT:
        raise InputError(target, f"{size} bytes is too large for a license text "
                         f"(limit {MAX_LICENSE_TEXT})")
    try:
        return p.name, p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(target, f"not valid UTF-8 at byte {exc.start}") from None


def run_license_file(
    target: str,
    profile: Profile | None = None,
    *,
    config: Config | None = None,
    probe_results: dict[str, Any] | None = None,
) -> AuditResult:
    """The license part of an audit for a bare license text (no release around it)."""
    name, text = read_license_document(target)
    runner = _Runner(SILENT)
    report = runner.call("license", lambda: lic_mod.analyze_text(text, name))
    for skipped in ("inventory", "card", "security", "architecture", "params", "sizing"):
        runner.status[skipped] = "skipped: bare license file"
    policy = None
    if profile is not None:
        cfg = config or Config()
        inputs = PolicyInputs(
            scope="license",
            license=report,
            license_texts={name: text},
            probe_results=probe_results,
            missing={k: v for k, v in runner.status.items() if v != "ok"},
        )
        policy = evaluate(inputs, profile, ignore=cfg.ignored_codes(),
                          severity={k: str(v) for k, v in cfg.severity.items()})
    p = Path(target)
    return AuditResult(
        target=target,
        source=SourceInfo(kind="license-file", location=str(p.resolve())),
        files=((name, len(text.encode("utf-8"))),),
        analyzers=dict(runner.status),
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        license=report,
        profile=profile,
        policy=policy,
        probe_results=probe_results,
        license_texts={name: text},
    )


def run_target(
    target: str,
    profile: Profile | None = None,
    *,
    progress: ProgressSink = SILENT,
    probe_results: dict[str, Any] | None = None,
    config: Config | None = None,
) -> AuditResult:
    """A release (directory, weights file, hub id) or a bare license file."""
    if is_license_document(target):
        return run_license_file(target, profile, config=config, probe_results=probe_results)
    from .sources import open_release

    release = open_release(target)
    return run(release, profile, progress=progress, probe_results=probe_results, config=config,
               target=target)


def load_probe_results(path: str) -> dict[str, Any]:
    """A ``modelclear probe --json`` file, checked to be a JSON object."""
    p = Path(path)
    if not p.is_file():
        raise InputError(path, "probe results file not found")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(path, "probe results must be a JSON object")
    data.setdefault("_file", p.name)
    return data
