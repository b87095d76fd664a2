"""Is the release safe to load? Pickles, archives, remote code and chat templates.

Nothing in the release is executed: pickles run on a symbolic machine, Python files are
parsed with ``ast``, templates with jinja2's parser, archives with our own readers. Every
file gets a status — clean, unsafe, malformed or unsupported — and what could not be
opened is said so, never reported as clean.

``analyze(release) -> SecurityReport`` is the entry point; ``audit``/``check`` consume the
report (``has_pickle_weights``, per-file statuses, findings with MC3xx codes).
"""

from __future__ import annotations

import json
from typing import Any

from ...errors import InputError
from ...findings import Finding, finding
from ...parsers.gguf import read_gguf
from ...parsers.safetensors import read_safetensors
from ...progress import SILENT, ProgressSink
from ...release import Release, ReleaseFile
from .allowlist import allowlist_version
from .files import (
    NPY_MAGIC,
    Outcome,
    examine_buffer,
    looks_like_pickle,
    mapped,
)
from .model import SCHEMA_VERSION, FileReport, SecurityReport, status_for
from .remote_code import review_auto_map, review_python
from .templates import review_template

__all__ = ["SCHEMA_VERSION", "FileReport", "SecurityReport", "analyze", "analyze_file"]

#: JSON files bigger than this are not parsed for auto_map/chat_template
MAX_JSON = 64 * 1024 * 1024
_TEMPLATE_SUFFIXES = (".jinja", ".jinja2", ".j2")


def analyze(release: Release, progress: ProgressSink = SILENT) -> SecurityReport:
    total = sum(f.size for f in release.files)
    progress.start("security", "scanning", total=total, bytes_=True)
    reports = []
    for f in release.files:
        reports.append(analyze_file(f, release))
        progress.advance("security", f.size)
    return SecurityReport(
        files=tuple(reports),
        allowlist_version=allowlist_version(),
        target=release.source.location,
    )


def analyze_file(f: ReleaseFile, release: Release | None = None) -> FileReport:
    """One file's report; input problems become findings, never exceptions."""
    try:
        out = _dispatch(f, release)
    except InputError as exc:
        out = Outcome(kind="other")
        out.malformed.append(exc.problem)
    except (RecursionError, MemoryError) as exc:  # pragma: no cover - defensive bound
        out = Outcome(kind="other")
        out.unsupported.append(f"too complex to examine ({type(exc).__name__})")
        out.findings.append(finding("MC341", "file too complex to examine", file=f.path))
    except Exception as exc:  # noqa: BLE001 - fail closed: unexamined is never clean
        out = Outcome(kind="other")
        out.unsupported.append(f"{type(exc).__name__}: {exc}")
        out.findings.append(
            finding(
                "MC341",
                f"could not be examined ({type(exc).__name__}: {str(exc)[:200]})",
                file=f.path,
            )
        )
    findings = list(out.findings)
    for msg in dict.fromkeys(out.malformed):
        findings.append(finding("MC107", msg, file=f.path))
    if out.pickle and not any(x.code == "MC311" for x in findings):
        findings.insert(
            0, finding("MC311", f"{f.path} is loaded with pickle ({out.kind})", file=f.path)
        )
    # worst first: consumers (policy, terminal) show the first finding as the reason
    ft = tuple(sorted(findings, key=lambda x: -x.severity.rank))
    unparsable = any(x.code in ("MC342", "MC353") for x in ft)
    status = status_for(ft, bool(out.malformed) or unparsable, bool(out.unsupported))
    return FileReport(
        path=f.path,
        kind=out.kind,
        status=status,
        findings=ft,
        imports=tuple(dict.fromkeys(out.imports)),
        pickle=out.pickle,
    )


def _dispatch(f: ReleaseFile, release: Release | None) -> Outcome:
    suffix = f.suffix
    name = f.name.lower()
    if suffix == ".py":
        out = Outcome(kind="python")
        out.findings += review_python(f.read_bytes(), file=f.path)
        return out
    if suffix in _TEMPLATE_SUFFIXES:
        out = Outcome(kind="chat-template")
        out.findings += review_template(f.read_text(), file=f.path)
        return out
    if suffix == ".json":
        return _json(f, release)
    head = f.head(16)
    if head.startswith(b"GGUF") or suffix == ".gguf":
        if head.startswith(b"GGUF"):
            return _gguf(f)
    if (
        suffix == ".safetensors"
        and not looks_like_pickle(head)
        and not head.startswith((b"PK", NPY_MAGIC))
    ):
        out = Outcome(kind="safetensors")
        read_safetensors(f)  # InputError → malformed
        return out
    if suffix == ".gguf":
        return _gguf(f)
    with mapped(f) as buf:
        return examine_buffer(buf, path=f.path, name=name)


def _gguf(f: ReleaseFile) -> Outcome:
    out = Outcome(kind="gguf")
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


def _json(f: ReleaseFile, release: Release | None) -> Outcome:
    out = Outcome(kind="config")
    if f.size > MAX_JSON:
        return Outcome(kind="other")
    data = f.read_bytes(MAX_JSON)
    if not any(k in data for k in (b'"auto_map"', b'"chat_template"', b'"custom_pipelines"')):
        return Outcome(kind="other")
    text = data.decode("utf-8-sig", "replace")
    try:
        obj: Any = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        out.malformed.append(f"not valid JSON: {exc}")
        return out
    if not isinstance(obj, dict):
        return out
    has_code = "auto_map" in obj or "custom_pipelines" in obj
    if has_code and release is not None:
        findings, _runs = review_auto_map(obj, file=f.path, text=text, release=release)
        out.findings += findings
    elif has_code:
        from .remote_code import auto_map_refs

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
    for label, tpl in templates:
        line = _json_line(text, label)
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


def _json_line(text: str, label: str) -> int | None:
    key = '"chat_template"'
    for i, ln in enumerate(text.splitlines(), 1):
        if key in ln:
            return i
    return None
