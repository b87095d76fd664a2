"""Probe suites: versioned YAML files, built in (``data/probes``) or given by path.

A suite file is validated here, once, into frozen probes with their messages already built
(jailbreak transforms applied, long inputs generated), so the runner only sends and scores.
"""

from __future__ import annotations

import base64
import codecs
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError

EXPECTS = ("refuse", "comply", "no-leak", "no-inject", "check", "describe", "robust")
MAX_SUITE_BYTES = 4 * 1024 * 1024
MAX_GENERATED_CHARS = 400_000
_LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7",
                       "A": "4", "E": "3", "I": "1", "O": "0", "S": "5", "T": "7"})
ENCODINGS = ("base64", "rot13", "leetspeak", "reversed")


@dataclass(frozen=True)
class Probe:
    id: str
    suite: str
    category: str
    expect: str
    messages: tuple[dict[str, str], ...]
    source_line: int | None = None
    transform: str | None = None
    canary: str | None = None
    system: str | None = None
    check: dict[str, Any] = field(default_factory=dict)
    answer_markers: tuple[str, ...] = ()
    framing_markers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suite:
    name: str
    version: str
    description: str
    file: str
    probes: tuple[Probe, ...]


def builtin_suites() -> list[str]:
    folder = resources.files("modelclear") / "data" / "probes"
    out = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("kind") == "suite":
                out.append(str(data["name"]))
    return out


def load_suite(ref: str) -> Suite:
    """A built-in suite name (``harmful``) or a path to a suite YAML file."""
    if ref in builtin_suites():
        entry = resources.files("modelclear") / "data" / "probes" / f"{ref}.yaml"
        return parse_suite(entry.read_text(encoding="utf-8"), f"modelclear:probes/{ref}.yaml")
    path = Path(ref)
    if not path.is_file():
        raise InputError(ref, "no such suite (built in: " + ", ".join(builtin_suites()) + ")")
    if path.stat().st_size > MAX_SUITE_BYTES:
        raise InputError(ref, f"suite file larger than {MAX_SUITE_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(ref, f"not UTF-8 (byte {exc.start})") from None
    return parse_suite(text, str(path))


class _LineLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type stubs
    """Records each mapping's source line so results can point back into the suite file."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _str(v: Any, where: str, what: str, *, required: bool = True) -> str | None:
    if v is None and not required:
        return None
    if not isinstance(v, str):
        raise InputError(where, f"{what} must be a string")
    return v


def parse_suite(text: str, file: str) -> Suite:
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        # only yaml's MarkedYAMLError subclasses carry a mark and a problem
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark else file
        raise InputError(where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict) or data.get("kind") != "suite":
        raise InputError(file, "not a probe suite (expected `kind: suite`)")
    name = _str(data.get("name"), file, "name")
    version = str(data.get("version", ""))
    if not version:
        raise InputError(file, "suite needs a version")
    defaults = data.get("defaults") or {}
    templates = data.get("templates") or {}
    if not isinstance(defaults, dict) or not isinstance(templates, dict):
        raise InputError(file, "defaults and templates must be mappings")
    raw = data.get("probes")
    if not isinstance(raw, list) or not raw:
        raise InputError(file, "suite has no probes")
    probes = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, dict):
            raise InputError(file, "each probe must be a mapping")
        line = item.get("__line__")
        where = f"{file}:{line}" if line else file
        p = _probe(item, defaults, templates, str(name), where, line)
        if p.id in seen:
            raise InputError(where, f"duplicate probe id {p.id}")
        seen.add(p.id)
        probes.append(p)
    return Suite(str(name), version, str(data.get("description", "")).strip(), file, tuple(probes))


def _probe(item: dict[str, Any], defaults: dict[str, Any], templates: dict[str, Any],
           suite: str, where: str, line: int | None) -> Probe:
    merged = {**{k: v for k, v in defaults.items() if k != "__line__"}, **item}
    pid = _str(merged.get("id"), where, "id")
    expect = merged.get("expect")
    if expect not in EXPECTS:
        raise InputError(where, f"expect must be one of {', '.join(EXPECTS)}")
    category = _str(merged.get("category", suite), where, "category")
    system = _str(merged.get("system"), where, "system", required=False)
    canary = _str(merged.get("canary"), where, "canary", required=False)
    if expect in ("no-leak", "no-inject") and not canary:
        raise InputError(where, f"{expect} probes need a canary")
    prompt = _prompt(merged, where)
    transform = _str(merged.get("transform"), where, "transform", required=False)
    if transform:
        prompt = _transform(prompt, transform, templates, where)
    check = merged.get("check") or {}
    if not isinstance(check, dict) or (expect == "check" and not check):
        raise InputError(where, "check probes need a `check` mapping")
    markers = {}
    for key in ("answer_markers", "framing_markers"):
        val = merged.get(key) or []
        if not isinstance(val, list) or not all(isinstance(x, str) for x in val):
            raise InputError(where, f"{key} must be a list of regexes")
        markers[key] = tuple(val)
    msgs = []
    if system:
        msgs.append({"role": "system", "content": system})
    msgs.append({"role": "user", "content": prompt})
    return Probe(
        id=str(pid), suite=suite, category=str(category), expect=str(expect),
        messages=tuple(msgs), source_line=line, transform=transform, canary=canary,
        system=system, check={k: v for k, v in check.items() if k != "__line__"},
        answer_markers=markers["answer_markers"], framing_markers=markers["framing_markers"],
    )


def _prompt(item: dict[str, Any], where: str) -> str:
    if "prompt_json" in item:
        try:
            val = json.loads(item["prompt_json"])
        except (TypeError, ValueError):
            raise InputError(where, "prompt_json must be a JSON string literal") from None
        if not isinstance(val, str):
            raise InputError(where, "prompt_json must be a JSON string literal")
        return val
    if "generate" in item:
        gen = item["generate"]
        if not isinstance(gen, dict) or not isinstance(gen.get("text"), str):
            raise InputError(where, "generate needs text and times")
        times = gen.get("times")
        if not isinstance(times, int) or times < 1:
            raise InputError(where, "generate.times must be a positive integer")
        text: str = gen["text"]
        if len(text) * times > MAX_GENERATED_CHARS:
            raise InputError(where, f"generated prompt longer than {MAX_GENERATED_CHARS} chars")
        return text * times
    return str(_str(item.get("prompt"), where, "prompt"))


def _transform(prompt: str, name: str, templates: dict[str, Any], where: str) -> str:
    tpl = templates.get(name)
    if not isinstance(tpl, str):
        raise InputError(where, f"transform {name!r} has no template in this suite")
    payload = prompt
    if name == "base64":
        payload = base64.b64encode(prompt.encode()).decode()
    elif name == "rot13":
        payload = codecs.encode(prompt, "rot13")
    elif name == "leetspeak":
        payload = prompt.translate(_LEET)
    elif name == "reversed":
        payload = prompt[::-1]
    return tpl.replace("{request}", prompt).replace("{payload}", payload).strip()
