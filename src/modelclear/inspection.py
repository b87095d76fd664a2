"""What a release contains: the result of ``modelclear inspect``.

The stages come from the engine (:data:`modelclear.engine.stages.INSPECT`), the same
ones an audit runs, so ``inspect`` and ``audit`` report the same findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .analyzers.architecture import Architecture
from .analyzers.card import Card
from .analyzers.inventory import Inventory
from .analyzers.paramcount import ParameterCount
from .analyzers.weights import Weights
from .config import Config
from .engine import Engine, RunOptions, StageState, stages
from .errors import InputError
from .findings import Finding
from .progress import SILENT, ProgressSink
from .release import Release
from .schemas import VERSIONS


@dataclass(frozen=True)
class Inspection:
    """The engine's inspect stages for one release, as ``inspect`` shows them."""

    release: Release
    inventory: Inventory
    weights: Weights
    architecture: Architecture | None
    parameters: ParameterCount | None
    card: Card | None
    hashes: dict[str, str] = field(default_factory=dict)
    #: every finding of the inspect stages (and the hash check with --hash), configured
    findings: tuple[Finding, ...] = ()

    def to_json(self) -> dict[str, Any]:
        src = self.release.source
        return {
            "schema_version": VERSIONS["inspect"],
            "source": {
                "kind": src.kind, "path": src.location, "model_id": src.model_id,
                "revision": src.revision, "refs": list(src.refs),
                "retrieved_at": src.retrieved_at, "other_revisions": list(src.other_revisions),
            },
            "files": [
                {**f.to_json(), "sha256": self.hashes.get(f.path)} for f in self.inventory.files
            ],
            "components": self.inventory.to_json()["components"],
            "missing_components": list(self.inventory.missing())
            if src.whole_release else [],
            "weights": self.weights.to_json(),
            "parameters": self.parameters.to_json() if self.parameters else None,
            "architecture": self.architecture.to_json() if self.architecture else None,
            "card": self.card.to_json() if self.card else None,
            "findings": [f.to_json() for f in self.findings],
        }


def inspect_release(
    release: Release, *, hash_all: bool = False, progress: ProgressSink = SILENT,
    config: Config | None = None,
) -> Inspection:
    """The contents of a release, from the same engine stages an audit runs.

    Unlike an audit, a stage that fails here is an error: ``inspect`` has nothing to
    show without its inventory and headers, and must not print a partial picture.
    """
    return inspection_of(Engine(release, RunOptions(config=config or Config()),
                                progress=progress), hash_all=hash_all)


def inspection_of(engine: Engine, *, hash_all: bool = False) -> Inspection:
    shown = stages.INSPECT + ((stages.HASH_FINDINGS,) if hash_all else ())
    for stage in shown:
        engine.get(stage)
        outcome = engine.outcome(stage)
        if outcome is not None and outcome.state is StageState.FAILED:
            raise InputError(engine.release.root.name, f"{stage.name} analysis failed: "
                             f"{outcome.detail}")
    inv, w = engine.get(stages.INVENTORY), engine.get(stages.WEIGHTS)
    assert inv is not None and w is not None  # neither can be skipped: they need nothing
    return Inspection(
        engine.release, inv, w, engine.get(stages.ARCHITECTURE), engine.get(stages.PARAMS),
        engine.get(stages.CARD), (engine.get(stages.HASHES) or {}) if hash_all else {},
        stages.findings_of(engine, shown),
    )
