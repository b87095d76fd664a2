"""One engine for every command: declared stages, memoised results, isolated failures."""

from .core import (
    Engine,
    RunOptions,
    Stage,
    StageOutcome,
    StageState,
    apply_config,
    configure_findings,
)

__all__ = ["Engine", "RunOptions", "Stage", "StageOutcome", "StageState", "apply_config",
           "configure_findings"]
