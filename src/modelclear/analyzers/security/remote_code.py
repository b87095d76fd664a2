"""Code a release would run: ``auto_map`` targets and a static review of every ``.py``.

``trust_remote_code=True`` imports the modules named in ``auto_map`` (and whatever they
import relatively) from the release, or from another repository for
``org/repo--module.Class`` references. We list those files and review every Python file
with the ``ast`` module, never importing it: process spawning, dynamic code, dynamic
imports, network, file writes and pickle loading, with file:line evidence, and whether
the call sits at module level (runs at import time).
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from posixpath import dirname, join, normpath
from typing import Any

from ...findings import Finding, Severity, finding
from ...release import Release

#: Python files larger than this are not parsed (ast needs ~200x the source in memory;
#: the largest transformers modeling files are ~300 KB)
MAX_REVIEW_BYTES = 1 << 20


@dataclass(frozen=True)
class _Rules:
    exact: dict[str, str]  # dotted → category
    modules: dict[str, str]  # "module" (from "module.*") → category
    write_methods: frozenset[str]


_CODES = {
    "process": "MC333",
    "dynamic_code": "MC334",
    "dynamic_import": "MC335",
    "network": "MC336",
    "file_write": "MC337",
    "pickle_load": "MC338",
}


#: categories that are only notes when the call sits inside a function: file writes
#: (save_vocabulary), on-demand imports, and pickle loads (the release's own pickles are
#: scanned by us; a load at import time stays medium and gets MC339)
_LOW_IN_FUNCTIONS = frozenset({"file_write", "dynamic_import", "pickle_load"})


@cache
def _rules() -> _Rules:
    text = (resources.files("modelclear") / "data" / "safe_globals.toml").read_text("utf-8")
    t = tomllib.loads(text)["python_review"]
    exact: dict[str, str] = {}
    modules: dict[str, str] = {}
    for cat in _CODES:
        for name in t[cat]:
            if name.endswith(".*"):
                modules[name[:-2]] = cat
            else:
                exact[name] = cat
    return _Rules(exact, modules, frozenset(t["file_write_methods"]))


# --------------------------------------------------------------------------------------
# auto_map
# --------------------------------------------------------------------------------------


def auto_map_refs(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(auto class, reference) pairs from ``auto_map`` and ``custom_pipelines``, at any depth.

    Both name code that ``trust_remote_code=True`` imports: ``auto_map`` values are a
    reference or a list of them (tokenizers: [slow, fast]); ``custom_pipelines`` entries
    hold an ``impl`` reference. Composite configs nest sub-configs (``text_config``,
    ``vision_config``, processor configs) that transformers reads with their own
    ``auto_map``, so the whole tree is walked (bounded), and the key path is reported.
    """
    out: list[tuple[str, str]] = []
    todo: list[tuple[str, Any]] = [("", config)]
    seen = 0
    while todo and seen < 1_000_000:
        prefix, node = todo.pop()
        seen += 1
        if isinstance(node, list):
            todo.extend((f"{prefix}[{i}]", v) for i, v in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        where = f"{prefix}." if prefix else ""
        out += [(where + k, v) for k, v in _refs_here(node)]
        todo.extend((f"{where}{k}", v) for k, v in node.items()
                    if k not in ("auto_map", "custom_pipelines"))
    return out


def _refs_here(node: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    am = node.get("auto_map")
    items = (am.items() if isinstance(am, dict)
             else enumerate(am) if isinstance(am, list) else ())
    for key, val in items:
        vals = val if isinstance(val, list | tuple) else [val]
        for v in vals:
            if isinstance(v, str) and v:
                out.append((str(key), v))
    cp = node.get("custom_pipelines")
    if isinstance(cp, dict):
        for task, spec in cp.items():
            impl = spec.get("impl") if isinstance(spec, dict) else None
            if isinstance(impl, str) and impl:
                out.append((f"pipeline {task}", impl))
    return out


#: libraries a diffusers pipeline index may name without custom code
_PIPELINE_LIBRARIES = frozenset({"diffusers", "transformers", "onnxruntime", "peft",
                                 "sentence_transformers", "open_clip", None})


def review_model_index(index: dict[str, Any], *, file: str, text: str) -> list[Finding]:
    """diffusers ``model_index.json``: components or pipelines that load custom code."""
    out: list[Finding] = []
    for key, val in index.items():
        ref = None
        if key == "custom_pipeline" and isinstance(val, str):
            ref = val
        elif key == "_class_name" and isinstance(val, list) and val:
            ref = ".".join(str(v) for v in val)
        elif (not key.startswith("_") and isinstance(val, list) and len(val) == 2
              and isinstance(val[1], str) and val[0] not in _PIPELINE_LIBRARIES):
            ref = f"{val[0]}.{val[1]}"
        if ref is None:
            continue
        out.append(finding(
            "MC340", f"pipeline index {key} → {ref}: diffusers imports and runs this code "
            "(custom component or pipeline)", file=file, line=_line_of(text, f'"{key}"'),
            quote=ref[:200], callable=ref,
        ))
    return out


def review_auto_map(
    config: dict[str, Any], *, file: str, text: str, release: Release
) -> tuple[list[Finding], list[str]]:
    """Findings for one config's ``auto_map`` and the release files it would run."""
    findings: list[Finding] = []
    runs: list[str] = []
    base = dirname(file)
    for auto, ref in auto_map_refs(config):
        line = _line_of(text, ref)
        if "--" in ref:
            repo, _, rest = ref.partition("--")
            findings.append(
                finding(
                    "MC331",
                    f"auto_map {auto} loads {rest} from repository {repo}: "
                    "trust_remote_code would fetch and run code outside this release",
                    file=file,
                    line=line,
                    quote=ref,
                    callable=ref,
                )
            )
            continue
        module = ref.rsplit(".", 1)[0] if "." in ref else ref
        rel = (
            normpath(join(base, module.replace(".", "/") + ".py"))
            if base
            else (module.replace(".", "/") + ".py")
        )
        if release.get(rel) is None:
            findings.append(
                finding(
                    "MC332",
                    f"auto_map {auto} names {ref}, but {rel} is not in the release: "
                    "trust_remote_code would download that code at load time",
                    file=file,
                    line=line,
                    quote=ref,
                    callable=ref,
                )
            )
            continue
        chain = _relative_closure(release, rel)
        runs.extend(chain)
        extra = f" (and {', '.join(c for c in chain if c != rel)})" if len(chain) > 1 else ""
        worst, why = _code_severity(release, chain)
        findings.append(
            finding(
                "MC330",
                f"auto_map {auto} → {ref}: trust_remote_code=True imports and runs {rel}{extra}"
                f"; {why}",
                file=file,
                line=line,
                quote=ref,
                callable=ref,
                runs=chain,
                severity=worst,
            )
        )
    return findings, list(dict.fromkeys(runs))


def _code_severity(release: Release, chain: list[str]) -> tuple[Severity, str]:
    """How dangerous the code an auto_map entry imports is: its own worst finding.

    One auto_map entry is judged once, by what can run: the severity of the entry's
    finding is the worst finding of the Python files trust_remote_code would import
    (info when that code does nothing the review flags). A file that does not parse
    cannot be imported, so MC342 does not count.
    """
    worst, where = Severity.INFO, ""
    for rel in chain:
        f = release.get(rel)
        if f is None or f.size > MAX_REVIEW_BYTES:
            continue
        for fd in review_python(f.read_bytes(MAX_REVIEW_BYTES), file=rel):
            if fd.code != "MC342" and fd.severity.rank > worst.rank:
                worst, where = fd.severity, f"{rel}: {fd.code} {fd.message}"
    return worst, (f"worst in that code: {where}" if where else
                   "the review of that code found nothing to flag")


def _relative_closure(release: Release, start: str) -> list[str]:
    """The module plus the release modules it imports relatively (transformers copies them)."""
    out: list[str] = []
    todo = [start]
    while todo and len(out) < 200:
        rel = todo.pop()
        if rel in out:
            continue
        out.append(rel)
        f = release.get(rel)
        if f is None or f.size > MAX_REVIEW_BYTES:
            continue
        try:
            tree = ast.parse(f.read_bytes())
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level >= 1:
                d = dirname(rel)
                for _ in range(node.level - 1):
                    d = dirname(d)
                names = [node.module] if node.module else [a.name for a in node.names]
                for mod in names:
                    cand = (
                        normpath(join(d, mod.replace(".", "/") + ".py"))
                        if d
                        else (mod.replace(".", "/") + ".py")
                    )
                    if release.get(cand) is not None:
                        todo.append(cand)
    return out


def _line_of(text: str, needle: str) -> int | None:
    for i, ln in enumerate(text.splitlines(), 1):
        if needle in ln:
            return i
    return None


# --------------------------------------------------------------------------------------
# Python review
# --------------------------------------------------------------------------------------


class _Review(ast.NodeVisitor):
    def __init__(self, file: str, lines: list[str]) -> None:
        self.file = file
        self.lines = lines
        self.aliases: dict[str, str] = {}
        self.depth = 0  # >0 inside def/class bodies
        self.findings: list[Finding] = []
        self.rules = _rules()

    # imports -------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if a.asname:
                self.aliases[a.asname] = a.name
            else:
                top = a.name.split(".")[0]
                self.aliases[top] = top
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            for a in node.names:
                self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        self.generic_visit(node)

    # scopes --------------------------------------------------------------------------
    def _scoped(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = _scoped
    visit_AsyncFunctionDef = _scoped
    visit_Lambda = _scoped

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        # class bodies run at import time, but their methods do not
        self.generic_visit(node)

    # calls ---------------------------------------------------------------------------
    def _dotted(self, node: ast.AST) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            head = self.aliases.get(node.id, node.id)
            return ".".join([head, *reversed(parts)])
        return None

    def _category(self, dotted: str) -> str | None:
        r = self.rules
        if dotted in r.exact:
            return r.exact[dotted]
        mod = dotted.rsplit(".", 1)[0] if "." in dotted else None
        while mod:
            if mod in r.modules:
                return r.modules[mod]
            mod = mod.rsplit(".", 1)[0] if "." in mod else None
        return None

    def visit_Call(self, node: ast.Call) -> None:
        dotted = self._dotted(node.func)
        cat = self._category(dotted) if dotted else None
        why = ""
        if dotted in ("builtins.open", "open", "io.open") and _writes(node):
            cat, why = "file_write", " for writing"
        elif dotted in ("torch.load",) and not _kw_true(node, "weights_only"):
            cat, why = "pickle_load", " without weights_only=True"
        elif dotted in ("numpy.load",) and _kw_true(node, "allow_pickle"):
            cat, why = "pickle_load", " with allow_pickle=True"
        elif cat == "dynamic_import" and node.args and isinstance(node.args[0], ast.Constant):
            cat = None  # a constant module name is an ordinary import
        elif (
            cat is None
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in self.rules.write_methods
            and dotted is not None
            and not dotted.startswith(("self.", "torch.", "np.", "numpy."))
        ):
            cat, why = "file_write", ""
        if cat:
            self._emit(cat, dotted or "?", why, node)
        self.generic_visit(node)

    def _emit(self, cat: str, dotted: str, why: str, node: ast.AST) -> None:
        ln = getattr(node, "lineno", None)
        quote = self.lines[ln - 1].strip()[:200] if ln and ln - 1 < len(self.lines) else None
        at_import = self.depth == 0
        when = " at import time" if at_import else ""
        # tokenizers' save_vocabulary() writes files and loaders import modules by name on
        # request: inside functions those are ordinary library behaviour, worth a note
        severity = Severity.LOW if not at_import and cat in _LOW_IN_FUNCTIONS else None
        self.findings.append(
            finding(
                _CODES[cat],
                f"calls {dotted}{why}{when}",
                file=self.file,
                line=ln,
                quote=quote,
                callable=dotted,
                import_time=at_import,
                severity=severity,
            )
        )
        if at_import and cat in ("process", "dynamic_code", "network", "file_write", "pickle_load"):
            self.findings.append(
                finding(
                    "MC339",
                    f"module-level call of {dotted} runs as soon as the file is "
                    "imported (trust_remote_code imports it)",
                    file=self.file,
                    line=ln,
                    quote=quote,
                    callable=dotted,
                )
            )


def _writes(node: ast.Call) -> bool:
    mode: Any = None
    if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
        mode = node.args[1].value
    for kw in node.keywords:
        if kw.arg == "mode" and isinstance(kw.value, ast.Constant):
            mode = kw.value.value
    return isinstance(mode, str) and any(c in mode for c in "wax+")


def _kw_true(node: ast.Call, name: str) -> bool:
    for kw in node.keywords:
        if kw.arg == name:
            return isinstance(kw.value, ast.Constant) and kw.value.value is True
    return False


def review_python(source: bytes, *, file: str) -> list[Finding]:
    try:
        tree = ast.parse(source, filename=file)
    except SyntaxError as exc:
        return [
            finding(
                "MC342",
                f"does not parse as Python 3: {exc.msg}",
                file=file,
                line=exc.lineno,
                quote=(exc.text or "").strip()[:200] or None,
            )
        ]
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        return [finding("MC342", f"does not parse as Python 3: {type(exc).__name__}", file=file)]
    text = source.decode("utf-8", "replace")
    v = _Review(file, text.splitlines())
    try:
        v.visit(tree)
    except RecursionError:
        v.findings.append(finding("MC342", "nesting too deep to review completely", file=file))
    return v.findings
