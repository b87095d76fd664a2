"""The symbolic pickle machine's vocabulary: what a trace reports, and its working nodes.

Split from :mod:`.pickle_machine` (the entry point) and :mod:`.pickle_vm` (the opcode
interpreter) so each stays readable; import the public names from
:mod:`.pickle_machine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# --------------------------------------------------------------------------------------
# public result types
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Global:
    """A module attribute the load imports (``module.name``; ``name`` may be dotted)."""

    module: str
    name: str

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class ComputedGlobal:
    """STACK_GLOBAL whose module/name are not constants: known only at load time."""

    module: Any
    name: Any


@dataclass(frozen=True)
class Call:
    """``func(*args, **kwargs)`` as REDUCE/INST/OBJ/NEWOBJ(_EX) would perform it."""

    func: Any
    args: Any  # a tuple normally; whatever REDUCE found if the stream passes a non-tuple
    kwargs: Any = None  # dict for NEWOBJ_EX, else None
    listitems: tuple[Any, ...] = ()  # APPEND/APPENDS/ADDITEMS applied to the result
    dictitems: tuple[Any, ...] = ()  # SETITEM/SETITEMS applied to the result: ((key, value), ...)
    how: str = "reduce"  # reduce | inst | obj | newobj | newobj_ex


@dataclass(frozen=True)
class Build:
    """BUILD: ``obj.__setstate__(state)`` or an attribute update of ``obj``."""

    obj: Any
    state: Any


@dataclass(frozen=True)
class PersistentId:
    """PERSID/BINPERSID: the loader's ``persistent_load`` resolves it (torch storages)."""

    value: Any


@dataclass(frozen=True)
class Ext:
    """EXT1/2/4 code not registered by the stream itself: an unknown callable."""

    code: int


@dataclass(frozen=True)
class Items:
    """APPEND/SETITEM applied to something that is not a container or a call result."""

    obj: Any
    listitems: tuple[Any, ...] = ()
    dictitems: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Opaque:
    """A value we deliberately do not materialise (size or out-of-band data)."""

    kind: str
    detail: str = ""


@dataclass(frozen=True)
class Cycle:
    """A container that (indirectly) contains itself; shown once, then as this marker."""


@dataclass(frozen=True, eq=False)
class Key:
    """Wraps an unhashable symbolic dict key (identity-hashed)."""

    value: Any


@dataclass(frozen=True)
class GlobalRef:
    """One import a load performs."""

    offset: int
    opcode: str  # GLOBAL | STACK_GLOBAL | INST | EXT1 | EXT2 | EXT4
    module: str | None  # None when computed at load time
    name: str | None
    #: names as written in the stream when protocol<3 import fixing renamed them
    written_as: tuple[str, str] | None = None
    computed: Any = None  # ComputedGlobal when module/name are not constants

    @property
    def dotted(self) -> str | None:
        if self.module is None or self.name is None:
            return None
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class CallSite:
    """Something a load would import or call, where, and with what argument shape."""

    offset: int
    opcode: str
    kind: str  # import | call | build | method
    target: str | None  # dotted name when the callable is a known global, else None
    func: Any  # symbolic callable (Global, Call, ComputedGlobal, Ext, ...)
    args: Any = ()  # symbolic arguments (frozen at the end of the run)
    arg_shape: tuple[str, ...] = ()
    method: str | None = None  # for kind=method/build: append, extend, __setitem__, ...
    stream: int = 0


@dataclass(frozen=True)
class Stream:
    start: int  # absolute offset of the stream's first opcode
    end: int  # absolute offset just past STOP (or of the failing opcode)
    protocol: int
    complete: bool  # ended with STOP


@dataclass(frozen=True)
class PickleError:
    offset: int  # absolute offset of the opcode that failed
    message: str
    stream: int


@dataclass(frozen=True)
class PickleTrace:
    file: str
    streams: tuple[Stream, ...]
    calls: tuple[CallSite, ...]
    globals: tuple[GlobalRef, ...]
    value: tuple[Any, ...]  # STOP value of each complete stream, in order
    error: PickleError | None
    #: absolute offset of bytes after the last stream that do not start another stream
    trailing: int | None = None
    ops: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


# --------------------------------------------------------------------------------------
# limits
# --------------------------------------------------------------------------------------

DEFAULT_MAX_OPS = 20_000_000
DEFAULT_MAX_OBJECTS = 5_000_000
#: ints longer than this many bytes are kept as Opaque (the real machine would build them)
MAX_INT_BYTES = 4096
#: freezing stops descending below this depth (deep nesting is shown as Opaque)
MAX_FREEZE_DEPTH = 150


class _Fail(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


class _Limit(_Fail):
    pass


# --------------------------------------------------------------------------------------
# mutable working nodes (identity matters: memo entries alias them)
# --------------------------------------------------------------------------------------


class _Node:
    __slots__ = ("kind", "a", "b", "c", "how", "litems", "ditems", "states")

    def __init__(self, kind: str, a: Any = None, b: Any = None, c: Any = None, how: str = ""):
        self.kind = kind  # global | computed | call | persid | ext
        self.a = a
        self.b = b
        self.c = c
        self.how = how
        self.litems: list[Any] | None = None
        self.ditems: list[Any] | None = None
        self.states: list[Any] | None = None


class _Dict:
    __slots__ = ("pairs",)

    def __init__(self) -> None:
        self.pairs: list[tuple[Any, Any]] = []


class _Set:
    __slots__ = ("items", "frozen")

    def __init__(self, frozen: bool) -> None:
        self.items: list[Any] = []
        self.frozen = frozen


_MARK = object()


def _shape(v: Any) -> str:
    """A short type description of one argument, for reports."""
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return f"str[{len(v)}]"
    if isinstance(v, bytes | bytearray):
        return f"bytes[{len(v)}]"
    if isinstance(v, tuple):
        return f"tuple[{len(v)}]"
    if isinstance(v, list):
        return f"list[{len(v)}]"
    if isinstance(v, _Dict):
        return f"dict[{len(v.pairs)}]"
    if isinstance(v, _Set):
        return f"{'frozenset' if v.frozen else 'set'}[{len(v.items)}]"
    if isinstance(v, _Node):
        if v.kind == "global":
            return f"global {v.a}.{v.b}"
        if v.kind == "call":
            f = v.a
            if isinstance(f, _Node) and f.kind == "global":
                return f"result of {f.a}.{f.b}"
            return "result of call"
        if v.kind == "persid":
            return "persistent_id"
        if v.kind == "ext":
            return f"ext {v.a}"
        return "computed global"
    if isinstance(v, Opaque):
        return v.kind
    return type(v).__name__


def _target(func: Any) -> str | None:
    if isinstance(func, _Node) and func.kind == "global":
        return f"{func.a}.{func.b}"
    return None


# --------------------------------------------------------------------------------------
# the machine
# --------------------------------------------------------------------------------------

_OPNAMES = {
    0x28: "MARK",
    0x2E: "STOP",
    0x30: "POP",
    0x31: "POP_MARK",
    0x32: "DUP",
    0x46: "FLOAT",
    0x49: "INT",
    0x4A: "BININT",
    0x4B: "BININT1",
    0x4C: "LONG",
    0x4D: "BININT2",
    0x4E: "NONE",
    0x50: "PERSID",
    0x51: "BINPERSID",
    0x52: "REDUCE",
    0x53: "STRING",
    0x54: "BINSTRING",
    0x55: "SHORT_BINSTRING",
    0x56: "UNICODE",
    0x58: "BINUNICODE",
    0x61: "APPEND",
    0x62: "BUILD",
    0x63: "GLOBAL",
    0x64: "DICT",
    0x7D: "EMPTY_DICT",
    0x65: "APPENDS",
    0x67: "GET",
    0x68: "BINGET",
    0x69: "INST",
    0x6A: "LONG_BINGET",
    0x6C: "LIST",
    0x5D: "EMPTY_LIST",
    0x6F: "OBJ",
    0x70: "PUT",
    0x71: "BINPUT",
    0x72: "LONG_BINPUT",
    0x73: "SETITEM",
    0x74: "TUPLE",
    0x29: "EMPTY_TUPLE",
    0x75: "SETITEMS",
    0x47: "BINFLOAT",
    0x80: "PROTO",
    0x81: "NEWOBJ",
    0x82: "EXT1",
    0x83: "EXT2",
    0x84: "EXT4",
    0x85: "TUPLE1",
    0x86: "TUPLE2",
    0x87: "TUPLE3",
    0x88: "NEWTRUE",
    0x89: "NEWFALSE",
    0x8A: "LONG1",
    0x8B: "LONG4",
    0x42: "BINBYTES",
    0x43: "SHORT_BINBYTES",
    0x8C: "SHORT_BINUNICODE",
    0x8D: "BINUNICODE8",
    0x8E: "BINBYTES8",
    0x8F: "EMPTY_SET",
    0x90: "ADDITEMS",
    0x91: "FROZENSET",
    0x92: "NEWOBJ_EX",
    0x93: "STACK_GLOBAL",
    0x94: "MEMOIZE",
    0x95: "FRAME",
    0x96: "BYTEARRAY8",
    0x97: "NEXT_BUFFER",
    0x98: "READONLY_BUFFER",
}

#: opcode name by byte, for callers that want to describe a byte (e.g. sniffing)
OPCODE_NAMES: dict[int, str] = dict(_OPNAMES)


def _py2str(b: bytes) -> Any:
    """Protocol-0/1 8-bit strings: str when ASCII, as the default unpickler makes them."""
    try:
        return b.decode("ascii")
    except UnicodeDecodeError:
        return b


def _text_int(line: bytes, what: str) -> int:
    s = line.strip()
    if len(s) > 4300:
        raise _Fail(f"{what} literal has more than 4300 digits")
    try:
        return int(s.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise _Fail(f"could not convert {what} argument to int") from None
