"""Freezing the machine's mutable working graph into the public frozen types."""

from __future__ import annotations

from typing import Any

from .pickle_types import (
    MAX_FREEZE_DEPTH,
    Build,
    Call,
    ComputedGlobal,
    Cycle,
    Ext,
    Global,
    Items,
    Key,
    Opaque,
    PersistentId,
    _Dict,
    _Node,
    _Set,
)

_ATOMS = frozenset({type(None), bool, int, float, str, bytes, Opaque})
_ATOM_TYPES = (bool, int, float, str, bytes, Opaque)


class _Freezer:
    def __init__(self) -> None:
        self.done: dict[int, Any] = {}
        self.active: set[int] = set()
        self.keep: list[Any] = []  # keep originals alive so ids stay unique

    def freeze(self, v: Any, depth: int = 0) -> Any:
        if type(v) in _ATOMS or isinstance(v, _ATOM_TYPES):
            return v
        if v == ():
            return ()
        key = id(v)
        hit = self.done.get(key)
        if hit is not None:
            return hit
        if key in self.active:
            return Cycle()
        if depth > MAX_FREEZE_DEPTH:
            return Opaque("deep", f"nested more than {MAX_FREEZE_DEPTH} levels")
        self.active.add(key)
        d = depth + 1
        f = self.freeze
        if isinstance(v, tuple):
            out: Any = tuple(f(x, d) for x in v)
        elif isinstance(v, list):
            out = [f(x, d) for x in v]
        elif isinstance(v, _Dict):
            out = {}
            for k, x in v.pairs:
                fk = f(k, d)
                try:
                    hash(fk)
                except TypeError:
                    fk = Key(fk)
                out[fk] = f(x, d)
        elif isinstance(v, _Set):
            items = tuple(f(x, d) for x in v.items)
            try:
                out = frozenset(items)
            except TypeError:
                out = items
        elif isinstance(v, _Node):
            out = self._node(v, d)
        else:
            out = Opaque(type(v).__name__)
        self.active.discard(key)
        self.done[key] = out
        self.keep.append(v)
        return out

    def _node(self, v: _Node, d: int) -> Any:
        f = self.freeze
        litems = tuple(f(x, d) for x in v.litems) if v.litems else ()
        ditems = tuple((f(k, d), f(x, d)) for k, x in v.ditems) if v.ditems else ()
        if v.kind == "global":
            out: Any = Global(v.a, v.b)
        elif v.kind == "computed":
            out = ComputedGlobal(f(v.a, d), f(v.b, d))
        elif v.kind == "persid":
            out = PersistentId(f(v.a, d))
        elif v.kind == "ext":
            out = Ext(v.a)
        else:
            out = Call(f(v.a, d), f(v.b, d), f(v.c, d), litems, ditems, v.how)
            litems = ditems = ()
        if litems or ditems:
            out = Items(out, litems, ditems)
        for state in v.states or ():
            out = Build(out, f(state, d))
        return out

