"""The per-format security scanners the format registry names (``FormatSpec.scanner``).

Each takes a release file (and the release, for configs whose ``auto_map`` points at
code in it) and returns an :class:`~.files.Outcome`; input problems raise
:class:`~modelclear.errors.InputError`, which :func:`analyze_file` turns into
``malformed``. Nothing is executed: pickles run on the symbolic machine, Python is
parsed with ``ast``, templates with jinja2's parser.
"""

from __future__ import annotations

import json
from typing import Any

from ...findings import Finding, finding
from ...release import Release, ReleaseFile
from .files import Outcome, examine_buffer, mapped

# Format readers and the code review are imported by the scanner that needs them: a
# ``scan`` of one pickle should not pay for GGUF, safetensors, ast review or jinja2.

#: templates reviewed per file (real files hold one to a handful)
MAX_TEMPLATES = 1000


def review_template(source: str, **kw: Any) -> list[Finding]:
    """jinja2 is imported only when a template is there to review (start-up of ``scan``)."""
    from .templates import review_template as review

    return review(source, **kw)

#: JSON files bigger than this are not parsed for auto_map/chat_template
MAX_JSON = 64 * 1024 * 1024


def scan_buffer(f: ReleaseFile, release: Release | None = None) -> Outcome:
    """Pickles, torch files, numpy arrays and containers: examined by content."""
    with mapped(f) as buf:
        return examine_buffer(buf, path=f.path, name=f.name.lower())


def scan_safetensors(f: ReleaseFile, release: Release | None = None) -> Outcome:
    """safetensors holds no code: a header the reference loader accepts is clean."""
    from ...parsers.safetensors import read_safetensors

    read_safetensors(f)  # InputError → malformed
    return Outcome(kind="safetensors")


def scan_python(f: ReleaseFile, release: Release | None = None) -> Outcome:
    """Review a ``.py`` with ``ast``; one too large to parse within memory is not examined
    (its syntax tree costs ~200 bytes of memory per byte of source)."""
    from .remote_code import MAX_REVIEW_BYTES, review_python

    out = Outcome(kind="python")
    if f.size > MAX_REVIEW_BYTES:
        out.not_examined(
            f"Python file of {f.size} bytes, over the {MAX_REVIEW_BYTES}-byte review limit",
            f"Python file of {f.size} bytes is over the {MAX_REVIEW_BYTES}-byte review limit;"
            " not examined", file=f.path)
        return out
    out.findings += review_python(f.read_bytes(MAX_REVIEW_BYTES), file=f.path)
    return out


def scan_template(f: ReleaseFile, release: Release | None = None) -> Outcome:
    out = Outcome(kind="chat-template")
    out.findings += review_template(f.read_text(), file=f.path)
    return out


def scan_gguf(f: ReleaseFile, release: Release | None = None) -> Outcome:
    """GGUF: the header must parse, and its chat templates are reviewed like any other."""
    out = Outcome(kind="gguf")
    from ...parsers.gguf import read_gguf

    g = read_gguf(f)
    templates: dict[str, str] = {}
    if g.chat_template:
        templates["tokenizer.chat_template"] = g.chat_template
    for k, v in g.chat_templates.items():
        templates[f"tokenizer.chat_template.{k}"] = v
    for key, tpl in templates.items():
        out.findings += review_template(
            tpl, file=f.path, label=f"GGUF {key}", offset=g.value_offset(key)
        )
    return out


def scan_json(f: ReleaseFile, release: Release | None = None) -> Outcome:
    """JSON configs: ``auto_map`` (remote code) and chat templates, the rest is data."""
    out = Outcome(kind="config")
    if f.size > MAX_JSON:
        return Outcome(kind="other")
    data = f.read_bytes(MAX_JSON)
    # a JSON escape (\u005f) can spell any key: then the bytes prove nothing, parse it
    keys = (b'"auto_map"', b'"chat_template"', b'"custom_pipelines"', b"\\u",
            b'"custom_pipeline"', b'"_class_name"')
    if not any(k in data for k in keys):
        return Outcome(kind="other")
    text = data.decode("utf-8-sig", "replace")
    try:
        obj: Any = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        out.malformed.append(f"not valid JSON: {exc}")
        return out
    if not isinstance(obj, dict):
        return out
    from .remote_code import auto_map_refs, review_auto_map, review_model_index

    if f.name.lower() == "model_index.json":
        out.findings += review_model_index(obj, file=f.path, text=text)
    has_code = bool(auto_map_refs(obj))
    if has_code and release is not None:
        findings, _runs = review_auto_map(obj, file=f.path, text=text, release=release)
        out.findings += findings
    elif has_code:
        for auto, ref in auto_map_refs(obj):
            code = "MC331" if "--" in ref else "MC330"
            out.findings.append(
                finding(
                    code,
                    f"auto_map {auto} → {ref}: trust_remote_code would run this code",
                    file=f.path,
                    quote=ref,
                    callable=ref,
                )
            )
    ct = obj.get("chat_template")
    templates: list[tuple[str, str]] = []
    if isinstance(ct, str):
        templates.append(("chat_template", ct))
    elif isinstance(ct, list):
        for i, item in enumerate(ct):
            if isinstance(item, dict) and isinstance(item.get("template"), str):
                templates.append((f"chat_template[{item.get('name', i)}]", item["template"]))
    if templates:
        out.kind = "chat-template"
    if len(templates) > MAX_TEMPLATES:
        out.not_examined(
            f"{len(templates)} chat templates, over the {MAX_TEMPLATES}-template limit",
            f"{len(templates)} chat templates: only the first {MAX_TEMPLATES} were reviewed",
            file=f.path)
        templates = templates[:MAX_TEMPLATES]
    line = _json_line(text) if templates else None  # once: the file is one JSON text
    for label, tpl in templates:
        for fd in review_template(tpl, file=f.path, label=label):
            # the template is one JSON string: report the JSON line, keep the template line
            fd.extra["template_line"] = fd.line
            findings_line = line if line is not None else fd.line
            out.findings.append(_with_line(fd, findings_line))
    return out


def _with_line(fd: Finding, line: int | None) -> Finding:
    return Finding(
        code=fd.code,
        severity=fd.severity,
        message=fd.message,
        file=fd.file,
        line=line,
        offset=fd.offset,
        quote=fd.quote,
        extra=fd.extra,
    )


def _json_line(text: str) -> int | None:
    key = '"chat_template"'
    for i, ln in enumerate(text.splitlines(), 1):
        if key in ln:
            return i
    return None
