"""The audit result: everything known about one release, and one profile's verdict.

The stages themselves, their order and their failure isolation live in the engine
(:mod:`modelclear.engine`); this module assembles the audit view of an engine run
for ``audit``, ``check``, ``compare``, ``record``, ``export`` and ``demo``, and
handles the one target that is not a release: a bare license text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .analyzers.architecture import Architecture
from .analyzers.card import Card
from .analyzers.inventory import Inventory
from .analyzers.license import analyze as lic_mod
from .analyzers.license.model import LicenseReport
from .analyzers.paramcount import ParameterCount
from .analyzers.policy import PolicyInputs, PolicyResult, Profile, evaluate
from .analyzers.policy.model import Status
from .analyzers.security.model import SecurityReport
from .analyzers.sizing import SizingReport
from .analyzers.weights import Weights
from .config import Config
from .engine import Engine, RunOptions, Stage, StageOutcome, StageState, apply_config, stages
from .engine.stages import MAX_LICENSE_TEXT, policy_settings
from .errors import InputError
from .findings import Finding
from .jsonout import jsonable
from .progress import SILENT, ProgressSink
from .release import Release, SourceInfo
from .schemas import VERSIONS

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



@dataclass(frozen=True)
class AuditResult:
    """Everything known about one release, and the verdict for one profile."""

    target: str
    source: SourceInfo
    files: tuple[tuple[str, int], ...]
    stages: tuple[StageOutcome, ...]
    generated_at: str
    inventory: Inventory | None = None
    weights: Weights | None = None
    card: Card | None = None
    license: LicenseReport | None = None
    security: SecurityReport | None = None
    architecture: Architecture | None = None
    params: ParameterCount | None = None
    sizing: SizingReport | None = None
    profile: Profile | None = None
    policy: PolicyResult | None = None
    probe_results: dict[str, Any] | None = None
    license_texts: dict[str, str] = field(default_factory=dict, repr=False)
    #: components carried inside another file (a chat template in tokenizer_config.json)
    embedded: dict[str, str] = field(default_factory=dict)
    #: every finding of every stage that ran, once, configuration applied
    findings: tuple[Finding, ...] = ()

    @property
    def analyzers(self) -> dict[str, str]:
        """Stage name → "ok" | "failed: …" | "skipped: …" (the form reports show)."""
        return {o.name: o.text for o in self.stages}

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
            lic = primary_license(self.license, self.card.text if self.card else None)
            osi = bool(lic is not None and lic.osi_approved)
            out.append(("open license", osi,
                        f"{lic.id} is {'' if osi else 'not '}OSI-approved" if lic is not None
                        else "no license identified"))
        return out

    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": VERSIONS["audit"],
            "tool": {"name": "modelclear", "version": __version__},
            "generated_at": self.generated_at,
            "target": self.target,
            # the profile's facts every verdict below rests on (also inside "policy")
            "assumptions": [a.model_dump(mode="json") for a in self.policy.assumptions]
            if self.policy is not None else [],
            "source": dataclasses.asdict(self.source),
            "files": [{"path": p, "size": s} for p, s in self.files],
            "analyzers": self.analyzers,
            "openness": self.components(),
            "embedded_components": dict(self.embedded),
            "open": [{"meaning": n, "holds": ok, "why": why} for n, ok, why in
                     self.open_meanings()],
            "inventory": jsonable(self.inventory),
            "weights": jsonable(self.weights),
            "card": _card_json(self.card),
            "license": jsonable(self.license),
            "security": jsonable(self.security),
            "architecture": jsonable(self.architecture),
            "params": jsonable(self.params),
            "sizing": jsonable(self.sizing),
            "profile": self.profile.to_json() if self.profile is not None else None,
            "policy": self.policy.to_json() if self.policy is not None else None,
            "probe_results": self.probe_results,
            "findings": [f.to_json() for f in self.findings],
        }


def _card_json(card: Card | None) -> dict[str, Any] | None:
    if card is None:
        return None
    data: dict[str, Any] = card.to_json()
    data.pop("text", None)  # the card text is in the release; keep the report small
    return data


def run(
    release: Release,
    profile: Profile | None = None,
    *,
    progress: ProgressSink = SILENT,
    probe_results: dict[str, Any] | None = None,
    config: Config | None = None,
    target: str | None = None,
) -> AuditResult:
    """Analyse ``release`` with every audit stage; evaluate ``profile`` if given."""
    engine = Engine(release, RunOptions(profile, probe_results, config or Config()),
                    progress=progress)
    return audit_result(engine, target=target)


def audit_result(engine: Engine, *, target: str | None = None,
                 shown: tuple[Stage[Any], ...] = stages.AUDIT,
                 with_policy: bool = True) -> AuditResult:
    """The audit view of an engine: the ``shown`` stages, and the verdict when a profile
    is set (a record without the audit pipeline shows fewer stages and no verdict)."""
    release = engine.release
    engine.progress.start("audit", "analysing", total=len(shown) + 1)
    for stage in shown:
        engine.get(stage)
    policy = None
    if with_policy and engine.options.profile is not None:
        policy = engine.get(stages.POLICY)
    reported = {s.name for s in stages.REPORTED}
    return AuditResult(
        target=target or release.source.model_id or release.source.location,
        source=release.source,
        files=tuple((f.path, f.size) for f in release.files),
        stages=tuple(o for o in engine.outcomes if o.name in reported),
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        inventory=engine.get(stages.INVENTORY),
        weights=engine.get(stages.WEIGHTS),
        card=engine.get(stages.CARD),
        license=engine.get(stages.LICENSE),
        security=engine.get(stages.SECURITY),
        architecture=engine.get(stages.ARCHITECTURE),
        params=engine.get(stages.PARAMS),
        sizing=engine.get(stages.SIZING),
        profile=engine.options.profile,
        policy=policy,
        probe_results=engine.options.probe_results,
        license_texts=engine.get(stages.LICENSE_TEXTS) or {},
        embedded=engine.get(stages.EMBEDDED) or {},
        findings=stages.findings_of(engine, shown),
    )


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
    cfg = config or Config()
    outcomes = [StageOutcome(n, StageState.SKIPPED, "bare license file")
                for n in ("inventory", "weights", "card", "security", "architecture", "params",
                          "sizing")]
    try:
        report: LicenseReport | None = apply_config(lic_mod.analyze_text(text, name), cfg)
        outcomes.insert(0, StageOutcome("license", StageState.OK))
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - the verdict then says "not analysed"
        report = None
        outcomes.insert(0, StageOutcome("license", StageState.FAILED,
                                        f"{type(exc).__name__}: {exc}"[:300]))
    policy = None
    if profile is not None:
        inputs = PolicyInputs(
            scope="license",
            license=report,
            license_texts={name: text},
            probe_results=probe_results,
            missing={o.name: o.text for o in outcomes if o.state is not StageState.OK},
        )
        policy = evaluate(inputs, profile, **policy_settings(cfg))
    p = Path(target)
    return AuditResult(
        target=target,
        source=SourceInfo(kind="license-file", location=str(p.resolve())),
        files=((name, len(text.encode("utf-8"))),),
        stages=tuple(outcomes),
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        license=report,
        profile=profile,
        policy=policy,
        probe_results=probe_results,
        license_texts={name: text},
        findings=tuple(report.findings) if report is not None else (),
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
