"""Build a clearance record from a release and whatever analyzers are installed.

Every analysis section is optional: the record says for each one whether it ran
(``analyses``), and a missing or failing analyzer leaves its section null instead of
stopping the record. The parts a record cannot do without — identity, every file's
hash, the license documents' full texts — come from the release itself and never
depend on another analyzer.
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
from ..analyzers.inventory import component_of
from ..errors import InputError
from ..progress import SILENT, ProgressSink
from ..release import Release, ReleaseFile
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
        try:
            f.path.encode("utf-8")
        except UnicodeEncodeError:
            shown = f.path.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            raise InputError(shown, "file name is not valid UTF-8; a record cannot name it "
                             "unambiguously") from None


def _hashes(release: Release, progress: ProgressSink) -> dict[str, str]:
    from ..hashing import hash_files

    return hash_files(release.files, progress)


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
        return release.source.retrieved_at, "hf-cache-file-times"
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
            task = res.get("task") if isinstance(res.get("task"), dict) else {}
            dataset = res.get("dataset") if isinstance(res.get("dataset"), dict) else {}
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


def _card(release: Release, hashes: Mapping[str, str]) -> tuple[dict[str, Any] | None, dict]:
    from ..analyzers import card as card_mod

    card = card_mod.analyze(release)
    if card is None:
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


def _architecture(release: Release,
                  audit_json: Mapping[str, Any]) -> tuple[dict[str, Any] | None, dict]:
    f = release.get("config.json")
    if f is None:
        # A GGUF file carries its architecture in its metadata; the audit read it.
        arch = audit_json.get("architecture")
        if isinstance(arch, dict) and arch.get("model_type"):
            archs = arch.get("architectures")
            return (
                {"file": str(arch.get("file") or release.files[0].path),
                 "architectures": [str(a) for a in archs] if isinstance(archs, list) else [],
                 "model_type": str(arch["model_type"])},
                _status("analysed"),
            )
        return None, _status("absent", "no config.json at the top of the release")
    try:
        cfg = json.loads(f.read_text(MAX_CONFIG_BYTES))
    except (InputError, ValueError) as exc:
        return None, _status("failed", f"config.json: {exc}")
    if not isinstance(cfg, dict):
        return None, _status("failed", "config.json is not a JSON object")
    archs = cfg.get("architectures")
    archs = [str(a) for a in archs] if isinstance(archs, list) else []
    model_type = cfg.get("model_type")
    return (
        {"file": f.path, "architectures": archs,
         "model_type": str(model_type) if model_type is not None else None},
        _status("analysed"),
    )


def license_json(report: Any) -> dict[str, Any]:
    """A ``LicenseReport`` as record JSON (also used by verify to compare terms)."""
    licenses = []
    for m in report.licenses:
        item = m.model_dump(mode="json")
        item["spdx"] = not m.id.startswith("LicenseRef-")
        licenses.append(item)
    try:
        primary = report.primary()
    except Exception:  # noqa: BLE001 - an unfinished primary() must not stop a record
        primary = None
    return {
        "primary": primary.id if primary is not None else None,
        "licenses": licenses,
        "declared": report.declared.model_dump(mode="json"),
        "findings": [
            f.to_json() if hasattr(f, "to_json") else dict(f) for f in report.findings
        ],
    }


def _license(release: Release, audit: Any) -> tuple[dict[str, Any] | None, dict]:
    report = getattr(audit, "license", None) if audit is not None else None
    if report is None:
        status = _analyzer_status(audit, "license") if audit is not None else None
        if status is not None and status["status"] != "analysed":
            return None, status
        from ..analyzers.license.analyze import analyze

        try:
            report = analyze(release)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - an analyzer bug must not lose the record
            return None, _status("failed", f"{type(exc).__name__}: {exc}"[:300])
    return license_json(report), _status("analysed")


def _catalog() -> dict[str, Any]:
    """Which license catalog judged this release: its version (when the catalog declares
    one), how many entries it had, and a digest of its packaged files — the digest tells
    two catalogs apart even when nobody bumped a version."""
    version = None
    entries = None
    try:
        from ..analyzers.license.catalog import load_catalog

        catalog = load_catalog()
        version = getattr(catalog, "version", None)
        entries = len(catalog.entries)
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
    return {"version": str(version) if version is not None else None, "entries": entries,
            "digest": digest}


def _audit_sections(audit: Any) -> dict[str, Any]:
    """Policy, security and sizing from the pipeline's ``AuditResult`` JSON, when given."""
    return audit.to_json() if audit is not None and hasattr(audit, "to_json") else {}


def _profile_json(profile: Any) -> dict[str, Any] | None:
    if profile is None:
        return None
    if hasattr(profile, "to_json"):
        return profile.to_json()
    if hasattr(profile, "model_dump"):
        return profile.model_dump(mode="json")
    return {"name": str(profile)}


def _policy(audit_json: Mapping[str, Any], profile: Any) -> tuple[dict[str, Any] | None, dict]:
    """The deployment profile (kept whole: it is the deployment configuration the
    compliance documents describe) and the verdicts, when the policy engine ran."""
    prof = _profile_json(profile)
    policy = audit_json.get("policy")
    if not isinstance(policy, dict):
        if prof is None:
            return None, _status("absent", "no deployment profile given")
        return (
            {"profile": prof, "overall": None, "verdicts": [], "obligations": []},
            _status("unavailable", "the audit gave no verdicts: profile kept, no verdicts"),
        )
    if prof is None:
        named = policy.get("profile")
        prof = named if isinstance(named, dict) else ({"name": str(named)} if named else None)
    return (
        {
            "profile": prof,
            "overall": policy.get("verdict") or policy.get("overall"),
            "verdicts": list(policy.get("checks") or policy.get("verdicts") or []),
            "obligations": list(policy.get("obligations") or []),
        },
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


def _analyzer_status(audit: Any, name: str) -> dict[str, Any] | None:
    raw = (getattr(audit, "analyzers", None) or {}).get(name)
    if raw is None:
        return None
    if raw == "ok":
        return _status("analysed")
    kind, _, detail = str(raw).partition(":")
    kinds = {"unavailable": "unavailable", "failed": "failed"}
    return _status(kinds.get(kind.strip(), "absent"), detail.strip() or str(raw))


def _summary(audit: Any, audit_json: Mapping[str, Any],
             key: str) -> tuple[dict[str, Any] | None, dict]:
    value = audit_json.get(key)
    if isinstance(value, dict):
        return summarize(value), _status("analysed")
    status = _analyzer_status(audit, key) if audit is not None else None
    if status is not None and status["status"] != "analysed":
        return None, status
    if audit is not None:
        return None, _status("absent", f"the audit produced no {key} result")
    return None, _status("unavailable", f"{key} analysis not run")


def run_audit(release: Release, profile: Any = None,
              progress: ProgressSink = SILENT) -> tuple[Any, str | None]:
    """The audit pipeline's result: (AuditResult, None), or (None, why it failed).

    A pipeline that breaks costs the record its verdicts and summaries, not the record:
    identity, hashes and license texts do not depend on it."""
    from ..pipeline import run

    try:
        return run(release, profile=profile, progress=progress), None
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - see docstring
        return None, f"audit pipeline failed: {type(exc).__name__}: {exc}"[:300]


def build(
    release: Release,
    *,
    profile: Any = None,
    reviewer: str | None = None,
    note: str | None = None,
    retrieved_at: str | None = None,
    progress: ProgressSink = SILENT,
    audit: Any = None,
    hashes: Mapping[str, str] | None = None,
    run_pipeline: bool = True,
) -> Record:
    """Make a sealed, schema-valid record of ``release`` (not stored: see ``Registry.add``).

    ``audit`` is an ``AuditResult`` already computed (so ``audit``-then-``record`` does not
    analyse twice); without one the pipeline runs here.
    """
    check_names(release)
    hashes = dict(hashes) if hashes is not None else _hashes(release, progress)
    missing = [f.path for f in release.files if f.path not in hashes]
    if missing:
        raise InputError(missing[0], "no hash computed for this file")
    audit_error = None
    if audit is None and run_pipeline:
        audit, audit_error = run_audit(release, profile, progress)
    audit_json = _audit_sections(audit)

    lic, lic_status = _license(release, audit)
    files = []
    doc_kinds: dict[str, str] = {}
    for f in sorted(release.files, key=lambda f: f.path):
        component = component_of(f.path)
        files.append({"path": f.path, "size": f.size, "sha256": hashes[f.path],
                      "component": component})
        if component in DOCUMENT_KINDS:
            doc_kinds[f.path] = component
    # A license text under an unusual name is still a license document when the license
    # analyzer found one in it (the model card's License section is the card's, not one).
    for m in (lic or {}).get("licenses", []):
        path = m.get("file")
        if path in doc_kinds or release.get(path) is None:
            continue
        if component_of(path) != "model-card":
            doc_kinds[path] = m["kind"] if m["kind"] in DOCUMENT_KINDS else "license"
    documents = [_document(release.get(p), kind, hashes[p])  # type: ignore[arg-type]
                 for p, kind in sorted(doc_kinds.items())]

    retrieved, basis = _retrieved(release, retrieved_at)
    card, card_status = _card(release, hashes)
    arch, arch_status = _architecture(release, audit_json)
    policy, policy_status = _policy(audit_json, profile)
    security, security_status = _summary(audit, audit_json, "security")
    sizing, sizing_status = _summary(audit, audit_json, "sizing")
    if audit_error is not None:
        for key, status in (("policy", policy_status), ("security", security_status),
                            ("sizing", sizing_status)):
            if status["status"] != "absent" or key == "policy" and profile is not None:
                status.update(_status("failed", audit_error))
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
        "analyses": {
            "card": card_status,
            "architecture": arch_status,
            "license": lic_status,
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
