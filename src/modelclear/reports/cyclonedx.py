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


def undecided(record: Record) -> str | None:
    """Why the BOM cannot say which license governs the weights, or None when it can.

    Without that decision every license found stays on the model (the old behaviour), so a
    reader must be told that the list mixes model, code and other licenses."""
    lic = record.data.get("license")
    if not lic:
        return None
    gov = lic.get("governing")
    if not isinstance(gov, dict):
        return "not decided: the record predates the governing-license decision"
    if gov["id"] is not None and not gov["sure"]:
        return f"not decided: taken {gov['id']} in {gov['file']}, unsure ({gov['basis']})"
    return None


def decided_id(record: Record) -> str | None:
    """The id of the license that governs the weights, when the record settles it."""
    gov = (record.data.get("license") or {}).get("governing")
    if undecided(record) is not None or not isinstance(gov, dict):
        return None
    return str(gov["id"]) if gov["id"] is not None else None


def split_licenses(record: Record) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The license matches of the model, and by file those that belong to that file only.

    When the governing license is decided only it stays on the model: a code license or an
    acceptable-use policy beside it does not license the weights. Notices never do."""
    lic = record.data.get("license") or {}
    gov = decided_id(record)
    paths = {f["path"] for f in record.data["files"]}
    model: list[dict[str, Any]] = []
    by_file: dict[str, list[dict[str, Any]]] = {}
    for m in lic.get("licenses", []):
        if m.get("kind") == "notice" or (gov is not None and m["id"] != gov):
            if m.get("file") in paths and not m.get("from_declaration"):
                by_file.setdefault(m["file"], []).append(m)
            continue
        model.append(m)
    return model, by_file


def set_aside(record: Record) -> set[str]:
    """Ids of licenses found to cover something other than the weights (the code, a
    policy); a card declaration naming one of them is not put on the model either."""
    from cyclonedx.spdx import fixup_id

    model = split_licenses(record)[0]
    lic = record.data.get("license") or {}
    out = {m["id"] for m in lic.get("licenses", [])
           if m.get("kind") != "notice" and m not in model}
    gov = decided_id(record)
    if gov is not None:
        # a declaration that is a standard id other than the governing one contradicts the
        # evidence (often the code's license); hub names ("other", "llama3.1") cannot
        declared = [p.strip() for p in ((record.data.get("card") or {}).get("license")
                                        or "").split(",")]
        declared.append(str((lic.get("declared") or {}).get("gguf_license") or ""))
        out |= {i for i in (fixup_id(p) for p in declared if p) if i and i != gov}
    return out


def _entry(record: Record, m: dict[str, Any], texts: dict[str, Any]) -> Any:
    """One analysed license: an SPDX id, else its LicenseRef name with the text attached."""
    from cyclonedx.model import AttachedText, XsUri
    from cyclonedx.model.license import DisjunctiveLicense, LicenseAcknowledgement
    from cyclonedx.spdx import fixup_id

    spdx = fixup_id(m["id"])
    if spdx:
        return DisjunctiveLicense(id=spdx, acknowledgement=LicenseAcknowledgement.CONCLUDED)
    text = texts.get(m["file"])
    return DisjunctiveLicense(
        name=m["id"],
        text=AttachedText(content=text, content_type="text/plain") if text else None,
        url=XsUri(_file_url(record, m["file"])) if m.get("file") else None,
        acknowledgement=LicenseAcknowledgement.CONCLUDED,
    )


def _texts(record: Record) -> dict[str, Any]:
    return {d["path"]: d["text"] for d in record.documents if d["text"] is not None}


def file_licenses(record: Record) -> dict[str, list[Any]]:
    """The licenses each file component carries (code licenses, notices, policies)."""
    texts = _texts(record)
    out: dict[str, list[Any]] = {}
    for path, matches in split_licenses(record)[1].items():
        seen: set[str] = set()
        for m in matches:
            if m["id"] not in seen:
                seen.add(m["id"])
                out.setdefault(path, []).append(_entry(record, m, texts))
    return out


def _licenses(record: Record) -> list[Any]:
    from cyclonedx.model import AttachedText
    from cyclonedx.model.license import DisjunctiveLicense, LicenseAcknowledgement
    from cyclonedx.spdx import fixup_id

    texts = _texts(record)
    out: list[Any] = []
    seen: set[str] = set()
    lic = record.data.get("license") or {}
    model = split_licenses(record)[0]
    # a declaration naming a license found to cover something else (the code) is not kept
    seen.update(set_aside(record))
    for m in model:
        if m["id"] in seen:
            continue
        seen.add(m["id"])
        out.append(_entry(record, m, texts))
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
    )
    tools = ToolRepository(components=[Component(
        type=ComponentType.APPLICATION, name="modelclear", version=data["tool"]["version"],
    )])
    # The model is what the BOM describes (metadata.component); its files are its parts,
    # recorded as its dependencies so the graph from the root is complete.
    parts = _file_components(record)
    bom = Bom(
        serial_number=uuid.UUID(hex=record.id),
        metadata=BomMetaData(
            tools=tools, timestamp=datetime.fromisoformat(record.created_at), component=main,
        ),
        components=parts,
    )
    bom.register_dependency(main, parts)
    return bom


def _file_components(record: Record) -> list[Any]:
    """One FILE component per release file, with its sha256 and size, and the licenses
    that cover that file alone (a code license, a notice) rather than the weights."""
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.component import Component, ComponentType

    licenses = file_licenses(record)
    children = []
    for f in record.data["files"]:
        props = [Property(name="modelclear:component", value=f["component"])] \
            if f["component"] else []
        children.append(Component(
            type=ComponentType.FILE, name=f["path"], bom_ref=f"file:{f['path']}",
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=f["sha256"])],
            properties=props + [Property(name="modelclear:size", value=str(f["size"]))],
            licenses=licenses.get(f["path"], []),
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
    gov = (data.get("license") or {}).get("governing")
    why = undecided(record)
    if why is not None:
        props.append(Property(name="modelclear:governing-license-undecided", value=why))
    elif isinstance(gov, dict) and gov["id"] is not None:
        props.append(Property(name="modelclear:governing-license", value=gov["id"]))
        props.append(Property(name="modelclear:governing-license-basis", value=gov["basis"]))
        for other in sorted(set_aside(record)):
            props.append(Property(name="modelclear:not-governing-license", value=other))
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
    doc["metadata"]["component"]["modelCard"] = model_card(record)
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
