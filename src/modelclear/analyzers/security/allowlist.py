"""Judging pickle globals: allowlist first, then a grade for everything else.

Blocklists keep missing stdlib gadgets (runpy, pty, cProfile, timeit, ensurepip...), so a
global is safe only when it is in ``data/safe_globals.toml``; anything else is a finding,
graded by what it can do so reviewers see ``os.system`` ahead of an unknown class.
Dotted names are resolved first: ``torch`` + ``serialization.os.system`` is judged as
``os.system``, whatever module it starts from.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ...datatables import load_toml

#: finding code per grade (see data/codes/mc3-security.toml)
GRADE_CODES = {
    "code-exec": "MC300",
    "process": "MC301",
    "filesystem": "MC302",
    "network": "MC303",
    "import-machinery": "MC304",
    "unknown": "MC305",
}


@dataclass(frozen=True)
class Verdict:
    """What importing ``module.name`` means for a load."""

    status: str  # allowed | review | graded
    target: str  # dotted name judged (after alias and attribute-path resolution)
    grade: str | None = None  # code-exec | process | filesystem | network | ...
    severity: str | None = None
    what: str = ""
    via: str | None = None  # the written name when it resolved elsewhere
    reason: str = ""


@dataclass(frozen=True)
class _Rules:
    version: str
    allow: frozenset[str]
    review_prefixes: tuple[str, ...]
    review_exact: frozenset[str]
    grades: tuple[tuple[str, str, str, str], ...]  # (prefix, grade, severity, what)
    grade_info: dict[str, tuple[str, str]]
    aliases: dict[str, str]
    dangerous: frozenset[str]
    module_names: frozenset[str]
    ts_prefixes: tuple[str, ...]
    ts_exact: frozenset[str]


@cache
def rules() -> _Rules:
    data = load_toml("safe_globals.toml")
    allow = set(data["allow"])
    for module, names in data["allow_families"].items():
        allow.update(f"{module}.{n}" for n in names)
    grades: list[tuple[str, str, str, str]] = []
    info: dict[str, tuple[str, str]] = {}
    for grade, spec in data["grades"].items():
        info[grade] = (spec["severity"], spec["what"])
        for prefix in spec["prefixes"]:
            grades.append((prefix, grade, spec["severity"], spec["what"]))
    # longest prefix first, so "os.system" (process) wins over "os" (filesystem)
    grades.sort(key=lambda g: -len(g[0]))
    aliases = dict(data["aliases"])
    names = {p.split(".", 1)[0] for p, *_ in grades} | set(aliases)
    return _Rules(
        version=data["version"],
        allow=frozenset(allow),
        review_prefixes=tuple(data["review"]["module_prefixes"]),
        review_exact=frozenset(data["review"]["exact"]),
        grades=tuple(grades),
        grade_info=info,
        aliases=aliases,
        dangerous=frozenset(data["dangerous_attributes"]["names"]),
        module_names=frozenset(names),
        ts_prefixes=tuple(data["torchscript"]["prefixes"]),
        ts_exact=frozenset(data["torchscript"]["exact"]),
    )


def allowlist_version() -> str:
    return rules().version


def alias(dotted: str) -> str:
    """``posix.system`` → ``os.system``: other names of the same module."""
    r = rules()
    head, _, rest = dotted.partition(".")
    head = r.aliases.get(head, head)
    return f"{head}.{rest}" if rest else head


def _grade(target: str) -> tuple[str, str, str]:
    r = rules()
    for prefix, grade, severity, what in r.grades:
        if target == prefix or target.startswith(prefix + "."):
            return grade, severity, what
    severity, what = r.grade_info["unknown"]
    return "unknown", severity, what


def judge(module: str, name: str, *, torchscript: bool = False) -> Verdict:
    """Verdict for a global as the unpickler would import it.

    ``torchscript``: the pickle is a member of a TorchScript archive, where ``__torch__``
    names are compiled classes of the archive and a few ``torch.jit._pickle`` helpers
    rebuild values.
    """
    r = rules()
    written = f"{module}.{name}"
    if written in r.allow:
        return Verdict("allowed", written)
    if torchscript and (
        written in r.ts_exact
        or (written.startswith(r.ts_prefixes) and not set(written.split(".")) & r.dangerous)
    ):
        return Verdict("allowed", written, reason="TorchScript archive")
    full = alias(written)
    if full in r.allow:
        return Verdict("allowed", full)
    parts = full.split(".")
    # attribute paths that touch interpreter internals are import machinery, full stop
    for p in parts[1:]:
        if p in r.dangerous:
            severity, what = r.grade_info["import-machinery"]
            return Verdict(
                "graded",
                full,
                "import-machinery",
                severity,
                what,
                via=written if full != written else None,
                reason=f"attribute path passes through {p}",
            )
    # an attribute path that walks into another module is judged on where it lands:
    # only the name part is an attribute walk (the module part is a real import)
    target = full
    via = written if full != written else None
    if "." in name:
        attrs = name.split(".")
        for i, part in enumerate(attrs):
            if part in r.module_names:
                landed = alias(".".join(attrs[i:]))
                if landed != full:
                    target, via = landed, written
                break
    if target in r.allow and via is None:
        return Verdict("allowed", target)
    if via is None and "." not in name:
        if target in r.review_exact or (
            name[:1].isupper() and any(target.startswith(p) for p in r.review_prefixes)
        ):
            return Verdict("review", target, reason="library class outside weights_only")
    grade, severity, what = _grade(target)
    reason = f"reached through {written}" if via else ""
    return Verdict("graded", target, grade, severity, what, via=via, reason=reason)
