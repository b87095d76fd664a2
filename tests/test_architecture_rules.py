"""Structural rules for ``src/modelclear``: no import cycles, no oversized modules.

A cycle makes import order matter and hides which layer depends on which; a module
past a few hundred lines stops having one subject. Both drift back in silently, so
they are checked here rather than left to review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "modelclear"

#: most lines a module may have
MAX_LINES = 600
#: modules allowed past MAX_LINES for now, each with the reason (shrink, never grow)
LONG_MODULES_ALLOWED: dict[str, str] = {
    "modelclear.parsers.pickle_vm": "one class: the pickle VM's opcode loop (see _stream)",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: not in functions, not TYPE_CHECKING."""
    out: list[ast.Import | ast.ImportFrom] = []
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                todo.extend(node.body)
            todo.extend(node.orelse)
        elif isinstance(node, ast.Try):
            todo.extend(node.body)
            todo.extend(node.orelse)
            todo.extend(node.finalbody)
            for handler in node.handlers:
                todo.extend(handler.body)
        elif isinstance(node, ast.With):
            todo.extend(node.body)
        elif isinstance(node, ast.ClassDef):
            todo.extend(node.body)
    return out


def _targets(
    module: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]
) -> set[str]:
    """The modelclear modules one import statement loads (the deepest that exist)."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".")
            if not is_package:
                base = base[:-1]
            base = base[: len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        # ``from pkg import mod`` loads pkg.mod; ``from pkg import name`` loads pkg
        names = [
            f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in known else prefix
            for alias in node.names
        ]
    out: set[str] = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name.startswith("modelclear") and name != module:
            out.add(name)
    return out


def import_graph(*, lazy: bool = False) -> dict[str, set[str]]:
    """Module → modelclear modules it imports at import time (``lazy``: anywhere).

    Importing ``a.b.c`` also runs the ``a`` and ``a.b`` packages, but those edges
    belong to Python's machinery, not to a design decision, so only the named
    module counts.
    """
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        is_package = path.name == "__init__.py"
        graph[name] = set()
        nodes = (
            [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
            if lazy
            else _top_level_imports(tree)
        )
        for node in nodes:
            graph[name] |= _targets(name, is_package, node, known)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``[a, b, …, a]``, or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_relative_imports_resolve_to_modules() -> None:
    graph = import_graph()
    lic = graph["modelclear.analyzers.license.analyze"]
    assert "modelclear.analyzers.license.consistency" in lic
    assert "modelclear.release" in lic


def test_no_import_cycles() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_analyzer_opens_a_source() -> None:
    """Opening a source is the caller's job; an analyzer is handed the release."""
    graph = import_graph(lazy=True)
    offenders = {
        m: sorted(t for t in targets if t.startswith("modelclear.sources"))
        for m, targets in graph.items()
        if m.startswith("modelclear.analyzers")
    }
    assert {m: t for m, t in offenders.items() if t} == {}


def _lines(path: Path) -> int:
    return len(path.read_text("utf-8").splitlines())


@pytest.mark.parametrize("module", sorted(LONG_MODULES_ALLOWED))
def test_allowlisted_modules_are_still_long(module: str) -> None:
    path = _modules().get(module)
    if path is None or _lines(path) <= MAX_LINES:
        pytest.fail(f"{module} is gone or short now: remove it from LONG_MODULES_ALLOWED")


def test_no_module_over_the_line_limit() -> None:
    too_long = {
        name: _lines(path)
        for name, path in _modules().items()
        if name not in LONG_MODULES_ALLOWED and _lines(path) > MAX_LINES
    }
    assert too_long == {}, f"modules over {MAX_LINES} lines: {too_long}"


#: most lines a function body may have
MAX_FUNCTION_LINES = 80
#: a comment starting with this, inside the function, says why it must be longer
LONG_ON_PURPOSE = "# Long on purpose:"


def long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[int, str, int]]:
    """(line, name, length) of every function longer than ``limit`` without a reason.

    Length runs from the first body statement, so a signature spread over many lines
    (a typer command's options) does not count: it is declarative, not logic.
    """
    lines = source.splitlines()
    out: list[tuple[int, str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        start, end = node.body[0].lineno, node.end_lineno or node.lineno
        length = end - start + 1
        if length <= limit:
            continue
        reasons = (
            line.strip()[len(LONG_ON_PURPOSE) :].strip()
            for line in lines[node.lineno - 1 : end]  # a reason may open the body
            if line.strip().startswith(LONG_ON_PURPOSE)
        )
        if not any(reasons):
            out.append((node.lineno, node.name, length))
    return out


def test_the_length_check_counts_bodies_and_honours_reasons() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(81))
    signature = "def f(\n" + "    a: int = 0,\n" * 30 + ") -> None:\n"
    assert long_functions("def f() -> None:\n" + body) == [(1, "f", 81)]
    assert long_functions(signature + body[: -len("    x80 = 80\n")]) == []
    assert long_functions("def f() -> None:\n    # Long on purpose: a table\n" + body) == []
    assert long_functions("def f() -> None:\n    # Long on purpose:\n" + body) != []
    nested = "def outer() -> None:\n    def inner() -> None:\n" + body.replace("    ", "        ")
    assert [name for _, name, _ in long_functions(nested)] == ["outer", "inner"]


def test_no_function_over_the_line_limit() -> None:
    too_long = {
        f"{name}:{line} {func}": length
        for name, path in _modules().items()
        for line, func, length in long_functions(path.read_text("utf-8"))
    }
    assert too_long == {}, (
        f"functions over {MAX_FUNCTION_LINES} lines (split them, or say why with a "
        f"'{LONG_ON_PURPOSE}' comment in the body): {too_long}"
    )


def test_a_command_imports_only_the_analyzers_its_stages_use() -> None:
    """``inspect`` must not pay for the license catalog, the security scanner or the
    policy at start-up: the engine imports each analyzer when its stage runs."""
    import subprocess
    import sys

    code = ("import sys, modelclear.commands.inspect; "
            "print(','.join(sorted(m for m in sys.modules if m.startswith('modelclear.'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip().split(",")
    for heavy in ("modelclear.analyzers.license.catalog", "modelclear.analyzers.security",
                  "modelclear.analyzers.policy", "modelclear.analyzers.sizing"):
        assert heavy not in loaded, heavy
