"""What the checks may read: the analyzers' results for one release (or one license text).

Every analyzer result is optional because the audit runs whatever it can: a check
whose input is ``None`` answers REVIEW "not analysed" (MC521) rather than guess.
The analyzer types are imported for type checking only, so that the policy package
does not load the security scanner or the sizing tables just to be imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ...license.model import LicenseReport

if TYPE_CHECKING:
    from ...card import Card
    from ...security.model import SecurityReport
    from ...sizing import SizingReport

Scope = Literal["release", "license"]

#: (path, component, format) of a release file, as the inventory classified it
FileEntry = tuple[str, str | None, str | None]


@dataclass(frozen=True)
class PolicyInputs:
    """Everything the checks may use; ``None`` means that analyzer did not run."""

    scope: Scope
    license: LicenseReport | None = None
    #: full texts of license / use-policy files, by release path, for quoting clauses
    license_texts: dict[str, str] = field(default_factory=dict)
    model_id: str | None = None
    files: tuple[FileEntry, ...] = ()
    card: Card | None = None
    security: SecurityReport | None = None
    sizing: SizingReport | None = None
    #: the JSON document ``modelclear probe --json`` wrote (its shape is checked on reading)
    probe_results: dict[str, Any] | None = None
    #: analyzer name → why its result is missing ("failed: …", "skipped: …")
    missing: dict[str, str] = field(default_factory=dict)
    #: small JSON files of the release (config.json, tokenizer_config.json), parsed
    configs: dict[str, Any] = field(default_factory=dict)
