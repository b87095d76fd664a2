"""Chat templates reviewed as programs: parse with jinja2, walk the AST, never render.

A chat template is a Jinja program that inference servers render with the user's
messages; a hostile one walks ``cycler.__init__.__globals__`` to ``os.popen``
(CVE-2024-34359). We parse it with jinja2's sandboxed environment (same grammar the
servers use, including ``loopcontrols`` and transformers' ``{% generation %}`` tag) and
look at the tree: dunder or private attributes, attribute names assembled from strings,
``|attr`` and ``format`` tricks, and names chat renderers never provide.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.ext import Extension
from jinja2.sandbox import SandboxedEnvironment

from ...findings import Finding, Severity, finding


class _GenerationTag(Extension):
    """transformers' ``{% generation %}...{% endgeneration %}`` marks assistant text."""

    tags = {"generation"}

    def parse(self, parser: Any) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


#: longest template reviewed (real chat templates are a few KB; the largest seen ~40 KB)
MAX_TEMPLATE_CHARS = 256 * 1024


@cache
def _env() -> SandboxedEnvironment:
    return SandboxedEnvironment(extensions=["jinja2.ext.loopcontrols", _GenerationTag])


@dataclass(frozen=True)
class _Rules:
    chat_names: frozenset[str]
    pivot_names: frozenset[str]
    methods: frozenset[str]


@cache
def _rules() -> _Rules:
    text = (resources.files("modelclear") / "data" / "safe_globals.toml").read_text("utf-8")
    t = tomllib.loads(text)["chat_templates"]
    return _Rules(frozenset(t["names"]), frozenset(t["pivot_names"]), frozenset(t["methods"]))


_FIELD = re.compile(r"\{([^{}]*)\}")


def _const_str(n: nodes.Node) -> str | None:
    """Value of a string expression built only from constants (``'__in' ~ 'it__'``)."""
    if isinstance(n, nodes.Const) and isinstance(n.value, str):
        return n.value
    if isinstance(n, nodes.Concat):
        parts = [_const_str(x) for x in n.nodes]
        return None if any(p is None for p in parts) else "".join(parts)  # type: ignore[arg-type]
    if isinstance(n, nodes.Add):
        a, b = _const_str(n.left), _const_str(n.right)
        return a + b if a is not None and b is not None else None
    if isinstance(n, nodes.Name):
        return None
    return None


def _is_built(n: nodes.Node) -> bool:
    return isinstance(n, nodes.Concat | nodes.Add | nodes.Mod | nodes.Filter | nodes.Call)


def review_template(
    source: str,
    *,
    file: str,
    label: str = "chat template",
    line_base: int = 0,
    offset: int | None = None,
) -> list[Finding]:
    """Findings for one template. ``line_base`` maps template lines to file lines.

    A template over :data:`MAX_TEMPLATE_CHARS` is not parsed (jinja2's parser needs
    memory and time far beyond its size); it is reported not examined (MC341), which
    makes the file unsupported rather than clean.
    """
    if len(source) > MAX_TEMPLATE_CHARS:
        return [finding("MC341", f"{label} is {len(source)} characters, over the "
                        f"{MAX_TEMPLATE_CHARS}-character review limit; not examined",
                        file=file, offset=offset)]
    try:
        tree = _env().parse(source)
    except RecursionError:
        return [
            finding("MC353", f"{label} is nested too deeply to parse", file=file, offset=offset)
        ]
    except TemplateSyntaxError as exc:
        return [
            finding(
                "MC353",
                f"{label} does not parse: {exc.message}",
                file=file,
                line=_line(exc.lineno, line_base),
                offset=offset,
            )
        ]
    try:
        return _walk(tree, source, file=file, label=label, line_base=line_base, offset=offset)
    except RecursionError:
        return [
            finding("MC353", f"{label} is nested too deeply to review", file=file, offset=offset)
        ]


def _walk(
    tree: nodes.Template,
    source: str,
    *,
    file: str,
    label: str,
    line_base: int,
    offset: int | None,
) -> list[Finding]:
    rv = _Review(tree, source.splitlines(), file, label, line_base, offset)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.Call)):
        if isinstance(node, nodes.Getattr):
            if node.attr.startswith("_"):
                rv.emit(
                    "MC350", node.attr, f"accesses attribute {node.attr}", node, callable=node.attr
                )
        elif isinstance(node, nodes.Getitem):
            rv.getitem(node)
        elif isinstance(node, nodes.Filter):
            rv.filter(node)
        elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
            rv.method_call(node, node.node)
    rv.names(tree)
    return rv.out


class _Review:
    """Findings for one template, deduplicated per (code, name), each with its line quoted."""

    def __init__(
        self,
        tree: nodes.Template,
        lines: list[str],
        file: str,
        label: str,
        line_base: int,
        offset: int | None,
    ) -> None:
        self.lines, self.file, self.label = lines, file, label
        self.line_base, self.offset = line_base, offset
        self.out: list[Finding] = []
        self.seen: set[tuple[str, str]] = set()
        self.rules = _rules()
        # names assigned with {% set %} whose value is an obfuscated constant string
        self.hidden: dict[str, str] = {}
        for a in tree.find_all(nodes.Assign):
            if isinstance(a.target, nodes.Name) and _is_built(a.node):
                v = _const_str(a.node)
                if v is not None:
                    self.hidden[a.target.name] = v

    def emit(self, code: str, key: str, msg: str, node: nodes.Node, **kw: Any) -> None:
        if (code, key) in self.seen:
            return
        self.seen.add((code, key))
        ln = getattr(node, "lineno", None)
        lines = self.lines
        quote = lines[ln - 1].strip()[:200] if ln and ln - 1 < len(lines) else None
        self.out.append(
            finding(
                code,
                f"{self.label}: {msg}",
                file=self.file,
                line=_line(ln, self.line_base),
                offset=self.offset,
                quote=quote,
                **kw,
            )
        )

    def name_value(self, n: nodes.Node) -> str | None:
        """A constant string, or the one a ``{% set %}`` name was given."""
        v = _const_str(n)
        if v is None and isinstance(n, nodes.Name) and n.name in self.hidden:
            return self.hidden[n.name]
        return v

    def getitem(self, node: nodes.Getitem) -> None:
        key = self.name_value(node.arg)
        if key is None:
            return
        if key.startswith("_"):
            self.emit("MC350", key, f"accesses item {key!r}", node, callable=key)
        elif _is_built(node.arg) or isinstance(node.arg, nodes.Name):
            self.emit(
                "MC351", key, f"looks up {key!r} through a name built from strings", node,
                callable=key,
            )

    def filter(self, node: nodes.Filter) -> None:
        if node.name == "attr" and node.args:
            v = self.name_value(node.args[0])
            if v is not None and v.startswith("_"):
                self.emit("MC350", v, f"reads attribute {v} through |attr", node, callable=v)
            else:
                self.emit(
                    "MC351",
                    f"attr:{v}",
                    f"reads attribute {v or '(computed)'} through "
                    "|attr, hiding the name from review",
                    node,
                    callable=v,
                )
        elif node.name in ("format",) and isinstance(node.node, nodes.Const):
            fmt = str(node.node.value)
            if "__" in fmt:
                self.emit("MC350", fmt, f"format string {fmt[:60]!r} reaches dunder names", node)
        elif node.name == "map":
            for kw in node.kwargs:
                v = self.name_value(kw.value)
                if kw.key == "attribute" and v and v.startswith("_"):
                    self.emit("MC350", v, f"maps attribute {v}", node, callable=v)

    def method_call(self, node: nodes.Call, target: nodes.Getattr) -> None:
        meth = target.attr
        if meth == "format" and isinstance(target.node, nodes.Const):
            fmt = str(target.node.value)
            # "{0.__class__}" / "{m[key]}": str.format walks attributes and items
            if any(("." in fld or "[" in fld) for fld in _FIELD.findall(fmt)):
                self.emit("MC350", fmt, f"str.format template {fmt[:60]!r} walks attributes", node)
            return
        if not meth.startswith("_") and meth not in self.rules.methods:
            self.emit("MC354", meth, f"calls method {meth}()", node, callable=meth)

    def names(self, tree: nodes.Template) -> None:
        """Names the template reads but neither binds nor gets from a chat renderer."""
        declared = _declared(tree)
        r = self.rules
        for n in tree.find_all(nodes.Name):
            if n.ctx != "load" or n.name in declared or n.name in r.chat_names:
                continue
            if n.name in r.pivot_names:
                self.emit(
                    "MC352",
                    n.name,
                    f"uses {n.name}, an object chat templates do not need and "
                    "a known route to Python internals",
                    n,
                    severity=Severity.MEDIUM,
                    callable=n.name,
                )
            else:
                self.emit(
                    "MC352",
                    n.name,
                    f"uses the name {n.name}, which chat renderers do not provide",
                    n,
                    callable=n.name,
                )


def _declared(tree: nodes.Template) -> set[str]:
    """Names the template binds itself: set targets, loop variables, macro arguments."""
    out: set[str] = set()
    for n in tree.find_all(nodes.Name):
        if n.ctx in ("store", "param"):
            out.add(n.name)
    for m in tree.find_all(nodes.Macro):
        out.add(m.name)
    return out


def _line(ln: int | None, base: int) -> int | None:
    return None if ln is None else ln + base
