"""Build a clearance record from the engine's results for a release.

Every analysis section is optional: the record says for each one whether it ran
(``analyses``, from the engine's typed stage outcomes), and a failing stage leaves
its section null instead of stopping the record. The parts a record cannot do
without — identity, every file's hash, the license documents' full texts — come
from the release itself and never depend on another analyzer. Nothing is analysed
here: card, license, architecture and hashes are the same engine results the audit
shows, so a record and an audit of one release cannot disagree.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from .. import __version__
from ..analyzers.architecture import Architecture
from ..analyzers.card import Card
from ..analyzers.inventory import component_of
from ..analyzers.license.model import LicenseReport
from ..analyzers.policy.profile import Profile
from ..config import Config
from ..engine import Engine, RunOptions, StageOutcome, StageState, stages
from ..errors import InputError
from ..parsers.lfs import declared_content
from ..pipeline import AuditResult, audit_result
from ..progress import SILENT, ProgressSink
from ..release import Release, ReleaseFile
from ..utf8 import encodes
from .model import SCHEMA_VERSION, Record, seal, validate

#: License / notice / AUP texts bigger than this are hashed but not copied into a record.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
#: config.json bigger than this is not a config (a record reads it only for architecture).
MAX_CONFIG_BYTES = 4 * 1024 * 1024
#: The card's training section is kept whole up to this many characters.
MAX_SECTION_CHARS = 20_000

DOCUMENT_KINDS = ("license", "notice", "acceptable-use-policy")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _status(status: str, detail: str | None = None) -> dict[str, Any]:
    return {"status": status, "detail": detail}


def check_names(release: Release) -> None:
    """Records (JSON, UTF-8) can only name files whose names are valid UTF-8."""
    for f in release.files:
        if not encodes(f.path):
            shown = f.path.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            raise InputError(shown, "file name is not valid UTF-8; a record cannot name it "
                             "unambiguously")


def _document(f: ReleaseFile, kind: str, sha256: str) -> dict[str, Any]:
    """The document as it is now; its bytes must be the bytes that were hashed."""
    doc: dict[str, Any] = {
        "path": f.path, "kind": kind, "size": f.size, "sha256": sha256,
        "text": None, "text_omitted": None,
    }
    if f.size > MAX_DOCUMENT_BYTES:
        doc["text_omitted"] = (
            f"file is {f.size} bytes, more than the {MAX_DOCUMENT_BYTES} a record keeps"
        )
        return doc
    data = f.read_bytes(MAX_DOCUMENT_BYTES)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise InputError(f.path, "changed while the record was being made; run it again")
    try:
        doc["text"] = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        doc["text_omitted"] = f"not valid UTF-8 at byte {exc.start}; only its hash is kept"
    return doc


def _retrieved(release: Release, given: str | None) -> tuple[str | None, str]:
    if given:
        try:
            when = datetime.fromisoformat(given)
        except ValueError:
            raise InputError(None, f"--retrieved-at {given!r} is not an ISO 8601 time") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.isoformat(timespec="seconds"), "given"
    if release.source.retrieved_at:
        basis = "hub-query-time" if release.source.kind == "hf-hub" else "hf-cache-file-times"
        return release.source.retrieved_at, basis
    if release.files:
        newest = max(f.mtime_ns for f in release.files)
        return datetime.fromtimestamp(newest / 1e9, UTC).isoformat(timespec="seconds"), "file-times"
    return None, "unknown"


def _evaluation(front: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Metrics from the card's ``model-index`` (the hub's structured evaluation results)."""
    out: list[dict[str, Any]] = []
    index = front.get("model-index")
    if not isinstance(index, list):
        return out
    for entry in index:
        results = entry.get("results") if isinstance(entry, dict) else None
        for res in results if isinstance(results, list) else []:
            if not isinstance(res, dict):
                continue
            task = res["task"] if isinstance(res.get("task"), dict) else {}
            dataset = res["dataset"] if isinstance(res.get("dataset"), dict) else {}
            metrics = res.get("metrics")
            for m in metrics if isinstance(metrics, list) else []:
                if not isinstance(m, dict) or m.get("type") is None or m.get("value") is None:
                    continue
                value = m["value"]
                if not isinstance(value, int | float) or isinstance(value, bool):
                    value = str(value)
                out.append({
                    "type": str(m["type"]),
                    "name": str(m["name"]) if m.get("name") is not None else None,
                    "value": value,
                    "dataset": str(dataset.get("name") or dataset.get("type") or "") or None,
                    "task": str(task.get("type") or "") or None,
                })
    return out


def _card(card: Card | None, outcome: StageOutcome | None,
          hashes: Mapping[str, str]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    if card is None:
        if outcome is not None and outcome.state is StageState.FAILED:
            return None, _status("failed", outcome.detail)
        return None, _status("absent", "the release has no model card (README.md)")
    section = card.section(r"fine.?tun|training data|training|dataset")
    fine_tuning = None
    if section is not None:
        line, text = section
        fine_tuning = {"line": line, "text": text[:MAX_SECTION_CHARS]}
    data = {
        "file": card.file,
        "sha256": hashes[card.file],
        "license": card.license,
        "license_name": card.license_name,
        "license_link": card.license_link,
        "base_model": list(card.base_model),
        "base_model_relation": card.base_model_relation,
        "datasets": list(card.datasets),
        "language": list(card.language),
        "tags": list(card.tags),
        "pipeline_tag": card.pipeline_tag,
        "library_name": card.library_name,
        "fine_tuning": fine_tuning,
        "evaluation": _evaluation(card.front_matter),
    }
    return data, _status("analysed")


def _architecture(arch: Architecture | None,
                  outcome: StageOutcome | None) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    if arch is None:
        if outcome is not None and outcome.state is StageState.FAILED:
            return None, _status("failed", f"config.json: {outcome.detail}")
        return None, _status("absent", "no config.json or GGUF metadata in the release")
    return ({"file": arch.file, "architectures": list(arch.architectures),
             "model_type": arch.model_type}, _status("analysed"))


def license_json(report: LicenseReport, card_text: str | None = None,
                 card_file: str | None = None) -> dict[str, Any]:
    """A ``LicenseReport`` as record JSON (also used by verify to compare terms).

    ``governing`` is the policy's decision (``governing``, MC528) of which license covers
    the weights, kept so exports (the CycloneDX BOM) list it alone on the model; ``primary``
    stays the license analyzer's own pick, as before.
    """
    from ..analyzers.policy.checks.governing import governing

    licenses = []
    for m in report.licenses:
        item = m.to_json()
        item["spdx"] = not m.id.startswith("LicenseRef-")
        licenses.append(item)
    primary = report.primary()
    gov = governing(report, card_text, card_file)
    return {
        "primary": primary.id if primary is not None else None,
        "governing": {
            "id": gov.match.id if gov.match is not None else None,
            "file": gov.match.file if gov.match is not None else None,
            "sure": gov.sure,
            "basis": gov.basis,
        },
        "licenses": licenses,
        "declared": report.declared.to_json(),
        "findings": [f.to_json() for f in report.findings],
    }


def _catalog() -> dict[str, Any]:
    """Which license catalog judged this release: how many entries it had and a digest
    of its packaged files. The catalog carries no version number, so ``version`` stays
    null and the digest is what tells two catalogs apart."""
    entries = None
    try:
        from ..analyzers.license.catalog import load_catalog

        entries = len(load_catalog().entries)
    except Exception:  # noqa: BLE001 - a broken catalog is the license analysis's failure
        pass
    folder = resources.files("modelclear") / "data" / "licenses"
    digest = None
    if folder.is_dir():
        h = hashlib.sha256()
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if entry.is_file():
                data = entry.read_bytes()
                h.update(f"{entry.name}\0{len(data)}\0".encode())
                h.update(data)
        digest = h.hexdigest()
    return {"version": None, "entries": entries, "digest": digest}


def _policy(audit: AuditResult,
            error: str | None) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The deployment profile (kept whole: it is the deployment configuration the
    compliance documents describe) and the verdicts, when the policy ran."""
    if audit.profile is None:
        return None, _status("absent", "no deployment profile given")
    prof = audit.profile.to_json()
    if audit.policy is None:
        status = (_status("failed", error) if error is not None else
                  _status("unavailable", "the audit gave no verdicts: profile kept, no verdicts"))
        return {"profile": prof, "overall": None, "verdicts": [], "obligations": []}, status
    policy = audit.policy.to_json()
    return (
        {"profile": prof, "overall": policy.get("verdict"),
         "verdicts": list(policy.get("checks") or []),
         "obligations": list(policy.get("obligations") or []),
         "assumptions": list(policy.get("assumptions") or [])},
        _status("analysed"),
    )


#: An analyzer result up to this size (as JSON) is kept whole; bigger ones are summarised.
MAX_SECTION_JSON = 64 * 1024
#: At most this many findings are listed in a summarised section (all are counted).
MAX_SUMMARY_FINDINGS = 200
FINDING_KEYS = ("code", "severity", "title", "message", "file", "line", "offset")


def summarize(value: Any) -> Any:
    """Keep an analyzer result whole when small; otherwise keep its scalars, count its
    findings by severity and list the first ones, and reduce other big lists to counts.
    A record must stay a readable document even for a 1,000-file release."""
    if len(json.dumps(value, default=str)) <= MAX_SECTION_JSON:
        return value
    if not isinstance(value, dict):
        return {"omitted": "result too large for a record", "type": type(value).__name__}
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, list) and item and all(
            isinstance(x, dict) and "severity" in x for x in item
        ):
            counts: dict[str, int] = {}
            for x in item:
                counts[str(x["severity"])] = counts.get(str(x["severity"]), 0) + 1
            out[f"{key}_by_severity"] = counts
            out[key] = [{k: x.get(k) for k in FINDING_KEYS if k in x}
                        for x in item[:MAX_SUMMARY_FINDINGS]]
            if len(item) > MAX_SUMMARY_FINDINGS:
                out[f"{key}_omitted"] = len(item) - MAX_SUMMARY_FINDINGS
        elif isinstance(item, list | dict):
            size = len(json.dumps(item, default=str))
            if size <= MAX_SECTION_JSON // 4:
                out[key] = item
            else:
                out[f"{key}_count"] = len(item)
        else:
            out[key] = item
    return out


def _stage_status(audit: AuditResult, name: str) -> dict[str, Any]:
    """A stage's typed outcome in the record's vocabulary (analysed/absent/failed/…)."""
    outcome = next((o for o in audit.stages if o.name == name), None)
    if outcome is None:
        return _status("unavailable", f"{name} analysis not run")
    if outcome.state is StageState.OK:
        return _status("analysed")
    if outcome.state is StageState.FAILED:
        return _status("failed", outcome.detail)
    return _status("absent", outcome.detail)


def _summary(value: dict[str, Any] | None, audit: AuditResult,
             name: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    if value is not None:
        return summarize(value), _status("analysed")
    status = _stage_status(audit, name)
    if status["status"] == "analysed":
        status = _status("absent", f"the audit produced no {name} result")
    return None, status


def build(
    release: Release,
    *,
    profile: Profile | None = None,
    reviewer: str | None = None,
    note: str | None = None,
    retrieved_at: str | None = None,
    progress: ProgressSink = SILENT,
    hashes: Mapping[str, str] | None = None,
    run_pipeline: bool = True,
    config: Config | None = None,
) -> Record:
    """Make a sealed, schema-valid record of ``release`` (not stored: see ``Registry.add``).

    ``run_pipeline=False`` records without the security scan, sizing and verdicts
    (identity, hashes, documents, card, license and architecture only).
    """
    check_names(release)
    engine = Engine(release, RunOptions(profile=profile, config=config or Config()),
                    progress=progress)
    if hashes is None:
        hashes = engine.get(stages.HASHES)
        if hashes is None:
            outcome = engine.outcome(stages.HASHES)
            raise InputError(release.root.name, "could not hash the release: "
                             f"{outcome.detail if outcome is not None else 'not run'}")
    missing = [f.path for f in release.files if f.path not in hashes]
    if missing:
        raise InputError(missing[0], "no hash computed for this file")
    shown = stages.AUDIT if run_pipeline else stages.RECORD
    policy_error = None
    try:
        audit = audit_result(engine, shown=shown, with_policy=run_pipeline)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - a verdict bug costs the verdicts, not the record
        policy_error = f"{type(exc).__name__}: {exc}"[:300]
        audit = audit_result(engine, shown=shown, with_policy=False)
    return from_audit(release, audit, hashes, reviewer=reviewer, note=note,
                      retrieved_at=retrieved_at, policy_error=policy_error)


def _file_entry(f: ReleaseFile, hashes: Mapping[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": f.path, "size": f.size, "sha256": hashes[f.path],
                             "component": component_of(f.path)}
    declared = declared_content(f)
    if declared is not None:
        # The bytes were not read: the record keeps the size and sha256 the publisher
        # declares (pointer or hub LFS metadata), which a later download must match.
        entry["size"] = declared.size
        entry["content"] = "hub" if f.remote_sha256 is not None else "lfs-pointer"
    return entry


def from_audit(release: Release, audit: AuditResult, hashes: Mapping[str, str], *,
               reviewer: str | None = None, note: str | None = None,
               retrieved_at: str | None = None, policy_error: str | None = None) -> Record:
    """The record of an audit already made (``audit``-then-``record`` analyses once)."""
    card_doc = audit.card
    lic = (license_json(audit.license, card_doc.text if card_doc is not None else None,
                        card_doc.file if card_doc is not None else None)
           if audit.license is not None else None)
    files = [_file_entry(f, hashes) for f in sorted(release.files, key=lambda f: f.path)]
    doc_kinds = {e["path"]: e["component"] for e in files if e["component"] in DOCUMENT_KINDS}
    # A license text under an unusual name is still a license document when the license
    # analyzer found one in it (the model card's License section is the card's, not one).
    for m in audit.license.licenses if audit.license is not None else ():
        if m.file in doc_kinds or release.get(m.file) is None:
            continue
        if component_of(m.file) != "model-card":
            doc_kinds[m.file] = m.kind if m.kind in DOCUMENT_KINDS else "license"
    documents = []
    for path, kind in sorted(doc_kinds.items()):
        doc = release.get(path)
        assert doc is not None  # only files of this release are listed above
        documents.append(_document(doc, kind, hashes[path]))

    retrieved, basis = _retrieved(release, retrieved_at)
    card, card_status = _card(audit.card, _outcome(audit, "card"), hashes)
    arch, arch_status = _architecture(audit.architecture, _outcome(audit, "architecture"))
    policy, policy_status = _policy(audit, policy_error)
    security, security_status = _summary(
        audit.security.to_json() if audit.security is not None else None, audit, "security")
    sizing, sizing_status = _summary(
        audit.sizing.to_json() if audit.sizing is not None else None, audit, "sizing")
    src = release.source
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "record_id": uuid.uuid4().hex,
        "created_at": _now(),
        "model": {
            "id": src.model_id,
            "source_kind": src.kind,
            "location": src.location,
            "revision": src.revision,
            "refs": list(src.refs),
            "other_revisions": list(src.other_revisions),
            "retrieved_at": retrieved,
            "retrieved_at_basis": basis,
        },
        "files": files,
        "documents": documents,
        "card": card,
        "architecture": arch,
        "license": lic,
        "policy": policy,
        "security": security,
        "sizing": sizing,
        "findings": [f.to_json() for f in audit.findings],
        "analyses": {
            "card": card_status,
            "architecture": arch_status,
            "license": _stage_status(audit, "license"),
            "policy": policy_status,
            "security": security_status,
            "sizing": sizing_status,
        },
        "reviewer": reviewer,
        "note": note,
        "tool": {"name": "modelclear", "version": __version__},
        "catalog": _catalog(),
    }
    # Round-trip through JSON so analyzer objects (tuples, enums) take their JSON form
    # before hashing; the hash must be over exactly what is stored.
    sealed = seal(json.loads(json.dumps(data, default=str)))
    validate(sealed, "record")
    return Record(sealed)


def _outcome(audit: AuditResult, name: str) -> StageOutcome | None:
    return next((o for o in audit.stages if o.name == name), None)
