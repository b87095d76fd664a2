"""The one place that runs analyzers: declared stages, memoised per run, failures isolated.

Every command asks an :class:`Engine` for the stages it needs. A stage runs at most
once per engine, so ``inspect``, ``audit``, ``check``, ``record`` and ``export`` see
the same results — and the same findings — for the same release by construction,
not by keeping three orchestrators in step.

A stage that raises anything but :class:`~modelclear.errors.InputError` is recorded
as ``failed`` (a typed :class:`StageOutcome`) and yields ``None``; stages that need
it are ``skipped`` with the reason. Bad input is not swallowed: a half-read release
must not produce a clearance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from ..config import Config
from ..errors import InputError
from ..findings import Finding, Severity
from ..progress import SILENT, ProgressSink

if TYPE_CHECKING:
    from ..analyzers.policy.profile import Profile
    from ..release import Release

T = TypeVar("T")


class StageState(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class StageOutcome:
    """What happened to one stage; ``detail`` says why it failed or was skipped."""

    name: str
    state: StageState
    detail: str | None = None

    @property
    def text(self) -> str:
        """The one-line form reports and records have always shown ("failed: …")."""
        return str(self.state) if self.detail is None else f"{self.state}: {self.detail}"


@dataclass(frozen=True, eq=False)
class Stage(Generic[T]):
    """One analysis step: its name, the stages it reads, and how to compute it.

    ``needs`` is checked when the stage asks for another (:meth:`Engine.need`), so the
    declared dependencies cannot drift from what the function really reads. ``empty``
    names what a ``None`` result means ("no config.json"), so stages that need this
    one are skipped with a reason a reader understands.
    """

    name: str
    needs: tuple[Stage[Any], ...]
    compute: Callable[[Engine], T | None]
    empty: str | None = None
    #: False for stages whose failure must stop the run (the verdict): failing closed.
    isolate: bool = True


class Unavailable(Exception):
    """A needed stage gave nothing: the asking stage is skipped, not failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RunOptions:
    """What the caller decides rather than the release: profile, probes, configuration."""

    profile: Profile | None = None
    probe_results: dict[str, Any] | None = None
    config: Config = dataclasses.field(default_factory=Config)


class Engine:
    """Results of stages for one release and one set of options, computed on demand."""

    def __init__(self, release: Release, options: RunOptions | None = None, *,
                 progress: ProgressSink = SILENT) -> None:
        self.release = release
        self.options = options or RunOptions()
        self.progress = progress
        self._values: dict[str, Any] = {}
        self._outcomes: dict[str, StageOutcome] = {}
        self._running: list[Stage[Any]] = []

    # -- asking for results -------------------------------------------------------------
    def get(self, stage: Stage[T]) -> T | None:
        """The stage's result, or None when it failed, was skipped or found nothing."""
        if stage.name not in self._outcomes:
            self._run(stage)
        return self._values.get(stage.name)

    def need(self, stage: Stage[T]) -> T:
        """Inside a stage: a declared dependency's result, or skip the asking stage."""
        if self._running and stage not in self._running[-1].needs:
            raise RuntimeError(f"stage {self._running[-1].name!r} reads {stage.name!r} "
                               "without declaring it in needs")
        value = self.get(stage)
        if value is None:
            outcome = self._outcomes[stage.name]
            if outcome.state is StageState.FAILED:
                raise Unavailable(f"{stage.name} failed ({outcome.detail})")
            raise Unavailable(outcome.detail or stage.empty or f"no {stage.name}")
        return value

    def optional(self, stage: Stage[T]) -> T | None:
        """Inside a stage: a declared dependency the stage can do without."""
        if self._running and stage not in self._running[-1].needs:
            raise RuntimeError(f"stage {self._running[-1].name!r} reads {stage.name!r} "
                               "without declaring it in needs")
        return self.get(stage)

    def require(self, stage: Stage[T]) -> T:
        """For a command that shows one stage: its result, or one clear error line.

        Such a command has nothing to show without it, so a failure is reported (exit 2)
        rather than printed as an empty, clean-looking result.
        """
        value = self.get(stage)
        if value is None:
            outcome = self._outcomes[stage.name]
            raise InputError(self.release.source.location,
                             f"{stage.name}: {outcome.text if outcome.detail else stage.empty}")
        return value

    def outcome(self, stage: Stage[Any]) -> StageOutcome | None:
        return self._outcomes.get(stage.name)

    @property
    def outcomes(self) -> tuple[StageOutcome, ...]:
        """Every stage that ran (or was skipped), in the order they finished."""
        return tuple(self._outcomes.values())

    def mark(self, name: str, state: StageState, detail: str | None = None) -> None:
        """Record a stage that does not apply to this target (a bare license file)."""
        self._outcomes[name] = StageOutcome(name, state, detail)

    # -- running ------------------------------------------------------------------------
    def _run(self, stage: Stage[Any]) -> None:
        self._running.append(stage)
        try:
            value = stage.compute(self)
        except InputError:
            raise
        except Unavailable as why:
            self._outcomes[stage.name] = StageOutcome(stage.name, StageState.SKIPPED,
                                                      _short(why.reason))
            return
        except Exception as exc:  # one analyzer's bug must not hide the others' results
            if not stage.isolate:
                raise
            self._outcomes[stage.name] = StageOutcome(
                stage.name, StageState.FAILED, _short(f"{type(exc).__name__}: {exc}"))
            return
        finally:
            self._running.pop()
        self._values[stage.name] = apply_config(value, self.options.config)
        self._outcomes[stage.name] = StageOutcome(stage.name, StageState.OK)
        self.progress.advance("audit", 1)


def _short(text: str) -> str:
    return text[:300]


# -- configuration, applied once to every stage's result ---------------------------------
def apply_config(value: T, config: Config) -> T:
    """Drop ignored findings and apply severity overrides everywhere in a result.

    Done here, on each stage's result as it is stored, so every command and every
    report sees the configured findings — nested ones (a file's security findings,
    the license report's) included. Nothing is walked when the configuration is empty.
    """
    if not config.ignore and not config.severity:
        return value
    return _configure(value, config)  # type: ignore[no-any-return]


def configure_findings(items: tuple[Finding, ...] | list[Finding],
                       config: Config) -> tuple[Finding, ...]:
    """The configuration rule for one list: ignored codes dropped, severities overridden."""
    out = []
    for f in items:
        if config.ignores(f.code):
            continue
        sev = config.severity.get(f.code)
        out.append(dataclasses.replace(f, severity=Severity(sev)) if sev is not None else f)
    return tuple(out)


def _configure(value: Any, config: Config) -> Any:
    if isinstance(value, Finding):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for fld in dataclasses.fields(value):
            if not fld.init:
                continue
            old = getattr(value, fld.name)  # generic over every stage's dataclass result
            new = _configure_field(old, config)
            if new is not old:
                changes[fld.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, BaseModel):
        updates = {}
        for name in type(value).model_fields:
            old = getattr(value, name)  # generic over every stage's pydantic result
            new = _configure_field(old, config)
            if new is not old:
                updates[name] = new
        return value.model_copy(update=updates) if updates else value
    return value


def _configure_field(old: Any, config: Config) -> Any:
    if isinstance(old, tuple | list) and old and all(isinstance(x, Finding) for x in old):
        new = configure_findings(old, config)
        return type(old)(new) if isinstance(old, list) else new
    if isinstance(old, tuple | list) and old and not isinstance(old[0], str | int | float):
        items = [_configure(x, config) for x in old]
        if any(a is not b for a, b in zip(items, old, strict=True)):
            return type(old)(items)
        return old
    if dataclasses.is_dataclass(old) or isinstance(old, BaseModel):
        return _configure(old, config)
    return old
