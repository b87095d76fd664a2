"""A record as a CycloneDX 1.6 ML-BOM.

``cyclonedx-python-lib`` builds everything it models (components, hashes, licenses with
attached texts, external references, tools, properties) and serialises it; it does not
model ``modelCard`` yet, so the model card is added to the serialised JSON here. Tests
validate the final document with the library's 1.6 JSON-schema validator.

The model component's sha256 is a *release manifest digest*: sha256 over the lines
``<sha256>  <path>\\n`` of every file, sorted by path — exactly what ``sha256sum`` prints
for the files in that order, so anyone can recompute it without modelclear.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ..record.model import Record

#: License terms that restrict use, and the values that mean "no restriction" for them.
#: Everything else a license says that the user must *do* is an obligation.
RESTRICTION_TERMS: dict[str, tuple[Any, ...]] = {
    "commercial_use": ("yes",),
    "mau_threshold": (None,),
    "other_scale_threshold": (None,),
    "requires_registration_or_approval": ("no",),
    "fine_tuning_allowed": ("yes",),
    "use_outputs_to_train_other_models": ("allowed", "unmentioned"),
    "acceptable_use_policy": ("no",),
    "territory_restriction": (None,),
    "competing_service_restriction": (None,),
}
OBLIGATION_TERMS: dict[str, tuple[Any, ...]] = {
    "attribution_required": ("no",),
    "derivative_naming_requirement": (None,),
    "redistribution_conditions": (None,),
}


def manifest_digest(files: list[dict[str, Any]]) -> str:
    lines = "".join(f"{f['sha256']}  {f['path']}\n" for f in sorted(files, key=lambda f: f["path"]))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def _file_url(record: Record, path: str) -> str:
    """Where a recorded file lives: on the hub at the recorded commit, else on disk."""
    model = record.data["model"]
    if model["id"] and "/" in model["id"] and model["revision"]:
        return (f"https://huggingface.co/{model['id']}/blob/{model['revision']}/"
                f"{quote(path)}")
    location = model["location"].rstrip("/")
    if model["source_kind"] in ("gguf", "weights-file"):
        location = location.rsplit("/", 1)[0]
    return f"file://{quote(location)}/{quote(path)}"


def _term_text(name: str, term: dict[str, Any]) -> str:
    label = name.replace("_", " ")
    value = term.get("value")
    detail = term.get("detail")
    ev = term.get("evidence") or {}
    text = f"{label}: {value}" + (f" ({detail})" if detail else "")
    if ev.get("quote"):
        quote = " ".join(str(ev["quote"]).split())
        text += f' — {ev["file"]}:{ev["line_start"]} "{quote}"'
    return text


def restrictions_and_obligations(record: Record) -> tuple[list[str], list[str]]:
    """Use restrictions and obligations from the license terms and the policy verdicts."""
    restrictions: list[str] = []
    obligations: list[str] = []
    lic = record.data.get("license") or {}
    for m in lic.get("licenses", []):
        if m.get("kind") == "notice":
            continue
        for name, term in (m.get("terms") or {}).items():
            value = term.get("value")
            if name in RESTRICTION_TERMS and value not in RESTRICTION_TERMS[name]:
                restrictions.append(f"[{m['id']}] " + _term_text(name, term))
            elif name in OBLIGATION_TERMS and value not in OBLIGATION_TERMS[name]:
                obligations.append(f"[{m['id']}] " + _term_text(name, term))
    policy = record.data.get("policy") or {}
    for ob in policy.get("obligations", []):
        if isinstance(ob, str):
            text = ob
        else:
            text = str(ob.get("text") or ob.get("message") or json.dumps(ob, sort_keys=True))
            if ob.get("applies") is False and ob.get("condition"):
                text += f" (only if: {ob['condition']})"
        if text not in obligations:
            obligations.append(str(text))
    return restrictions, obligations


def _declared_text(record: Record, link: str | None) -> str | None:
    """The text behind a card's non-standard license: the file its ``license_link`` names,
    else the release's only license file."""
    docs = [d for d in record.documents if d["kind"] == "license" and d["text"] is not None]
    if link:
        target = link.strip().removeprefix("./")
        hit = next((d for d in docs if d["path"] == target), None)
        if hit is not None:
            return str(hit["text"])
    return str(docs[0]["text"]) if len(docs) == 1 else None


def _licenses(record: Record) -> list[Any]:
    from cyclonedx.model import AttachedText, XsUri
    from cyclonedx.model.license import DisjunctiveLicense, LicenseAcknowledgement
    from cyclonedx.spdx import fixup_id

    texts = {d["path"]: d["text"] for d in record.documents if d["text"] is not None}
    out: list[Any] = []
    seen: set[str] = set()
    lic = record.data.get("license") or {}
    for m in lic.get("licenses", []):
        if m.get("kind") == "notice" or m["id"] in seen:
            continue
        seen.add(m["id"])
        spdx = fixup_id(m["id"])
        if spdx:
            out.append(DisjunctiveLicense(
                id=spdx, acknowledgement=LicenseAcknowledgement.CONCLUDED))
            continue
        text = texts.get(m["file"])
        out.append(DisjunctiveLicense(
            name=m["id"],
            text=AttachedText(content=text, content_type="text/plain") if text else None,
            url=XsUri(_file_url(record, m["file"])) if m.get("file") else None,
            acknowledgement=LicenseAcknowledgement.CONCLUDED,
        ))
    card = record.data.get("card") or {}
    declared = card.get("license")
    if declared:
        for part in declared.split(","):
            part = part.strip()
            spdx = fixup_id(part)
            key = spdx or card.get("license_name") or part
            if key in seen:
                continue
            seen.add(key)
            text = None if spdx else _declared_text(record, card.get("license_link"))
            out.append(DisjunctiveLicense(
                id=spdx, name=None if spdx else f"LicenseRef-hf-{key}",
                text=AttachedText(content=text, content_type="text/plain") if text else None,
                acknowledgement=LicenseAcknowledgement.DECLARED,
            ))
    gguf = (lic.get("declared") or {}).get("gguf_license")
    if gguf:
        spdx = fixup_id(str(gguf))
        key = spdx or str(gguf)
        if key not in seen:
            seen.add(key)
            out.append(DisjunctiveLicense(
                id=spdx, name=None if spdx else f"LicenseRef-gguf-{key}",
                acknowledgement=LicenseAcknowledgement.DECLARED,
            ))
    if not out:
        # No analysis and no declaration: still attach what the release's files say.
        for d in record.documents:
            if d["kind"] == "license" and d["text"] is not None:
                out.append(DisjunctiveLicense(
                    name=f"LicenseRef-modelclear-unidentified-{d['sha256'][:12]}",
                    text=AttachedText(content=d["text"], content_type="text/plain"),
                ))
    return out


def build_bom(record: Record) -> Any:
    """The BOM as library objects (everything but ``modelCard``)."""
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.tool import ToolRepository
    from packageurl import PackageURL

    data = record.data
    model = data["model"]
    files = data["files"]
    model_id = model["id"] or model["location"].rstrip("/").rsplit("/", 1)[-1]
    group, _, name = model_id.rpartition("/")
    purl = None
    if group and model["revision"]:
        purl = PackageURL(type="huggingface", namespace=group, name=name,
                          version=model["revision"])
    main = Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=name,
        group=group or None,
        version=model["revision"] or None,
        bom_ref="model",
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=manifest_digest(files))],
        licenses=_licenses(record),
        external_references=_external_refs(record),
        purl=purl,
        properties=_model_properties(record),
        components=_file_components(files),
    )
    tools = ToolRepository(components=[Component(
        type=ComponentType.APPLICATION, name="modelclear", version=data["tool"]["version"],
    )])
    return Bom(
        serial_number=uuid.UUID(hex=record.id),
        metadata=BomMetaData(
            tools=tools, timestamp=datetime.fromisoformat(record.created_at),
        ),
        components=[main],
    )


def _file_components(files: list[dict[str, Any]]) -> list[Any]:
    """One FILE component per release file, with its sha256 and size."""
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.component import Component, ComponentType

    children = []
    for f in files:
        props = [Property(name="modelclear:component", value=f["component"])] \
            if f["component"] else []
        children.append(Component(
            type=ComponentType.FILE, name=f["path"], bom_ref=f"file:{f['path']}",
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=f["sha256"])],
            properties=props + [Property(name="modelclear:size", value=str(f["size"]))],
        ))
    return children


def _external_refs(record: Record) -> list[Any]:
    """The model card, a linked license and every license document, each where it lives."""
    from cyclonedx.model import ExternalReference, ExternalReferenceType, XsUri

    data = record.data
    refs = []
    card = data.get("card")
    if card:
        refs.append(ExternalReference(type=ExternalReferenceType.MODEL_CARD,
                                      url=XsUri(_file_url(record, card["file"]))))
        link = card.get("license_link")
        if link and link.startswith(("http://", "https://")):
            refs.append(ExternalReference(type=ExternalReferenceType.LICENSE, url=XsUri(link)))
    for d in data["documents"]:
        refs.append(ExternalReference(
            type=ExternalReferenceType.LICENSE, url=XsUri(_file_url(record, d["path"])),
            comment=f"{d['kind']} file, sha256 {d['sha256']}",
        ))
    return refs


def _model_properties(record: Record) -> list[Any]:
    """What ties the BOM to its record: ids, source, refs, verdict and reviewer."""
    from cyclonedx.model import Property

    data = record.data
    model = data["model"]
    props = [
        Property(name="modelclear:record-id", value=record.id),
        Property(name="modelclear:record-sha256", value=record.record_hash),
        Property(name="modelclear:source-kind", value=model["source_kind"]),
    ]
    if model["retrieved_at"]:
        props.append(Property(name="modelclear:retrieved-at", value=model["retrieved_at"]))
    for ref in model["refs"]:
        props.append(Property(name="modelclear:ref", value=ref))
    policy = data.get("policy") or {}
    if policy.get("overall"):
        props.append(Property(name="modelclear:verdict", value=str(policy["overall"])))
    if data.get("reviewer"):
        props.append(Property(name="modelclear:reviewer", value=data["reviewer"]))
    return props


def model_card(record: Record) -> dict[str, Any]:
    """The CycloneDX ``modelCard`` object, from the card, config and license terms."""
    data = record.data
    card = data.get("card") or {}
    arch = data.get("architecture") or {}
    params: dict[str, Any] = {}
    if card.get("pipeline_tag"):
        params["task"] = card["pipeline_tag"]
    if arch.get("model_type"):
        params["architectureFamily"] = arch["model_type"]
    if arch.get("architectures"):
        params["modelArchitecture"] = ", ".join(arch["architectures"])
    datasets = []
    for ds in card.get("datasets", []):
        entry: dict[str, Any] = {"type": "dataset", "name": ds}
        if "/" in ds and " " not in ds:
            entry["contents"] = {"url": f"https://huggingface.co/datasets/{quote(ds)}"}
        datasets.append(entry)
    for base in card.get("base_model", []):
        datasets.append({"type": "other", "name": f"base model: {base}"})
    if datasets:
        params["datasets"] = datasets
    out: dict[str, Any] = {"bom-ref": "model-card"}
    if params:
        out["modelParameters"] = params
    metrics = [
        {"type": str(m["name"] or m["type"]), "value": str(m["value"]),
         **({"slice": m["dataset"]} if m.get("dataset") else {})}
        for m in card.get("evaluation", [])
    ]
    if metrics:
        out["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    restrictions, obligations = restrictions_and_obligations(record)
    considerations: dict[str, Any] = {}
    profile = (data.get("policy") or {}).get("profile") or {}
    if profile.get("use"):
        considerations["useCases"] = [str(u) for u in profile["use"]]
    risks = [{"name": f"Use restriction: {r}",
              "mitigationStrategy": "Confirm the deployment stays within this clause."}
             for r in restrictions]
    risks += [{"name": f"Obligation: {o}",
               "mitigationStrategy": "Fulfil this duty in every product built on the model."}
              for o in obligations]
    if risks:
        considerations["ethicalConsiderations"] = risks
    if considerations:
        out["considerations"] = considerations
    return out


def to_cyclonedx(record: Record) -> dict[str, Any]:
    """The ML-BOM as a JSON object (CycloneDX 1.6)."""
    from cyclonedx.output.json import JsonV1Dot6

    bom = build_bom(record)
    doc: dict[str, Any] = json.loads(JsonV1Dot6(bom).output_as_string())
    for comp in doc.get("components", []):
        if comp.get("bom-ref") == "model":
            comp["modelCard"] = model_card(record)
    return doc


def render(record: Record) -> str:
    return json.dumps(to_cyclonedx(record), indent=2, ensure_ascii=False) + "\n"


def validate(doc: dict[str, Any] | str) -> str | None:
    """The first 1.6 schema violation, or None when the BOM is valid."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = doc if isinstance(doc, str) else json.dumps(doc)
    err = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    return None if err is None else str(err)
