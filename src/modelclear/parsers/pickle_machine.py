"""A pickle machine that runs the opcode stream symbolically: nothing is imported or called.

Loading a pickle is running a small stack program whose instructions may import any
global and call it. To know what a load *would* do, we run that program on symbols:
``GLOBAL os system`` pushes ``Global("os", "system")``, ``REDUCE`` pushes
``Call(func, args)``, and every import and call is recorded with the byte offset of the
opcode that triggers it. Scanners that only list GLOBAL opcodes miss names computed on
the stack, memo tricks and EXT codes; running the machine sees what the real unpickler
sees, including what ran before a stream breaks.

Why our own decoder instead of :func:`pickletools.genops`: ``genops`` decodes GLOBAL names
as latin-1 where the real unpickler requires UTF-8, reads declared lengths through a file
object (no check against what is left before slicing), stops at the first STOP (several
streams need restarting by hand), and raises bare ``ValueError`` without the offset or
what ran before. Decoding the ~70 opcodes ourselves gives exact offsets, the real
unpickler's error behaviour and bounded work.

Result shape (all frozen):

* :class:`PickleTrace` — ``streams`` (one :class:`Stream` per STOP-terminated or broken
  stream), ``calls`` (every :class:`CallSite`: imports and calls in stream order),
  ``globals`` (every :class:`GlobalRef` imported), ``value`` (tuple: the object each
  complete stream's STOP returns) and ``error`` (:class:`PickleError` or ``None``).
* Symbolic values: :class:`Global` ``(module, name)``; :class:`ComputedGlobal` for a
  STACK_GLOBAL whose operands are not constants; :class:`Call` ``(func, args, kwargs,
  listitems, dictitems, how)``, where ``listitems``/``dictitems`` hold what APPEND(S) /
  SETITEM(S) added to the call's result (an ``OrderedDict()`` filled with tensors is a
  ``Call`` with ``dictitems``); :class:`Build` ``(obj, state)``; :class:`PersistentId`
  ``(value)``; :class:`Ext` ``(code)``; :class:`Opaque` for values we do not materialise
  (huge ints, out-of-band buffers); :class:`Cycle` where a container contains itself;
  plain ``None``/bool/int/float/str/bytes, tuple, list, dict, frozenset.

A PyTorch zip checkpoint's ``data.pkl`` (protocol 2) stores each tensor as::

    Call(Global("torch._utils", "_rebuild_tensor_v2"),
         (PersistentId(("storage", Global("torch", "FloatStorage"), "0", "cpu", 1024)),
          storage_offset, (size...), (stride...), requires_grad, Call(OrderedDict...)))

so a reader walks ``trace.value[0]`` and matches on ``Call.func == Global(...)`` and
``args[0]`` being a :class:`PersistentId` whose value is the ``('storage', type, key,
location, numel)`` tuple. A state dict is ``Call(Global("collections", "OrderedDict"),
(), dictitems=((name, tensor_call), ...))`` possibly wrapped in :class:`Build` (torch
attaches ``_metadata`` with BUILD).
"""

from __future__ import annotations

import _compat_pickle
import codecs
import mmap
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
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
    listitems: tuple = ()  # APPEND/APPENDS/ADDITEMS applied to the result
    dictitems: tuple = ()  # SETITEM/SETITEMS applied to the result: ((key, value), ...)
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
    listitems: tuple = ()
    dictitems: tuple = ()


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
        self.litems: list | None = None
        self.ditems: list | None = None
        self.states: list | None = None


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


class _Machine:
    def __init__(
        self,
        data: Any,
        file: str,
        base: int,
        max_ops: int,
        max_objects: int,
        after_build: dict[str, Callable[[Any, Any, int], int | None]] | None = None,
    ):
        self.after_build = after_build or {}
        # bytes or an mmap (slicing, indexing and find work on both without copying the
        # whole file); anything else (bytearray, memoryview) is copied once
        self.raw = data if isinstance(data, bytes | mmap.mmap) else bytes(data)
        self.file = file
        self.base = base
        self.max_ops = max_ops
        self.max_objects = max_objects
        self.objects = 0
        self.ops = 0
        self.calls: list[tuple] = []  # (offset, opcode, kind, func, args, method, stream)
        self.globals: list[GlobalRef] = []
        self.ext_registry: dict[int, tuple[str, str]] = {}
        self.stream_no = 0

    # -- helpers -----------------------------------------------------------------------

    def _inline_data(self, obj: _Node, state: Any, pos: int, stack: list[Any]) -> int:
        """Let a format hook skip raw bytes a custom unpickler reads right after BUILD.

        joblib writes array data between opcodes: its unpickler reads the bytes after
        BUILD of a NumpyArrayWrapper. Without skipping them, the opcode walk would
        decode array bytes as opcodes.
        """
        cls = obj.a if obj.kind == "call" else obj
        if not (isinstance(cls, _Node) and cls.kind == "global"):
            return pos
        hook = self.after_build.get(f"{cls.a}.{cls.b}")
        if hook is None:
            return pos
        skip = hook(_Freezer().freeze(state), self.raw, pos)
        if skip is None:
            return pos
        if skip == -1:  # an inline pickle stream follows; it runs in the same load
            value, pos, _ = self._stream(pos)
            stack[-1] = value
            return pos
        if skip < 0 or skip > len(self.raw) - pos:
            raise _Fail(f"inline data of {skip} bytes runs past the end of data (truncated)")
        stack[-1] = Opaque("inline-data", f"{skip} bytes at offset {self.base + pos}")
        return pos + skip

    def _count(self, n: int = 1) -> None:
        self.objects += n
        if self.objects > self.max_objects:
            raise _Limit(f"more than {self.max_objects} objects; stopped to bound memory")

    def _take(self, pos: int, n: int, what: str) -> bytes:
        end = pos + n
        if n < 0 or end > len(self.raw):
            raise _Fail(f"{what} needs {n} bytes but only {len(self.raw) - pos} remain (truncated)")
        return self.raw[pos:end]

    def _line(self, pos: int, what: str) -> tuple[bytes, int]:
        nl = self.raw.find(b"\n", pos)
        if nl < 0:
            raise _Fail(f"{what}: no newline before the end of data (truncated)")
        return self.raw[pos:nl], nl + 1

    def _import(self, offset: int, opcode: str, module: str, name: str, proto: int) -> _Node:
        written = None
        if proto < 3:
            key = (module, name)
            if key in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[key]
                written = key
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
                written = key
        node = _Node("global", module, name)
        self._count()
        self.globals.append(GlobalRef(self.base + offset, opcode, module, name, written))
        self.calls.append((offset, opcode, "import", node, (), None, self.stream_no))
        return node

    def _call(self, offset: int, opcode: str, func: Any, args: Any, kwargs: Any, how: str):
        node = _Node("call", func, args, kwargs, how)
        self._count()
        self.calls.append((offset, opcode, "call", func, (args, kwargs), None, self.stream_no))
        f = func
        # copyreg.add_extension(module, name, code) registers an EXT code for later opcodes
        if (
            isinstance(f, _Node)
            and f.kind == "global"
            and (f.a, f.b) in (("copyreg", "add_extension"), ("copy_reg", "add_extension"))
            and isinstance(args, tuple)
            and len(args) == 3
            and isinstance(args[0], str)
            and isinstance(args[1], str)
            and isinstance(args[2], int)
        ):
            self.ext_registry[args[2]] = (args[0], args[1])
        return node

    def _method(self, offset: int, opcode: str, obj: Any, method: str, args: tuple) -> None:
        self.calls.append((offset, opcode, "method", obj, args, method, self.stream_no))

    def _add_list(self, offset: int, opcode: str, target: Any, items: list) -> None:
        if isinstance(target, list):
            target.extend(items)
        elif isinstance(target, _Set):
            if not target.frozen:
                target.items.extend(items)
            else:
                raise _Fail("ADDITEMS on a frozenset")
        elif isinstance(target, _Node):
            if target.litems is None:
                target.litems = []
            target.litems.extend(items)
            self._method(
                offset, opcode, target, "extend" if opcode == "APPENDS" else "append", tuple(items)
            )
        else:
            raise _Fail(f"{opcode} on {_shape(target)}, which has no append/extend")

    def _set_items(self, offset: int, opcode: str, target: Any, pairs: list) -> None:
        if isinstance(target, _Dict):
            target.pairs.extend(pairs)
        elif isinstance(target, _Node):
            if target.ditems is None:
                target.ditems = []
            target.ditems.extend(pairs)
            self._method(offset, opcode, target, "__setitem__", tuple(pairs))
        elif isinstance(target, list):
            # list.__setitem__ with int keys is legal; anything else fails at load
            for k, _ in pairs:
                if not isinstance(k, int):
                    raise _Fail(f"{opcode}: list index must be int, got {_shape(k)}")
        else:
            raise _Fail(f"{opcode} on {_shape(target)}, which does not support item assignment")

    # -- main loop ---------------------------------------------------------------------

    def run(self, max_streams: int | None):
        raw = self.raw
        n = len(raw)
        pos = 0
        streams: list[Stream] = []
        values: list[Any] = []
        error: PickleError | None = None
        trailing: int | None = None
        while pos < n and (max_streams is None or len(streams) < max_streams):
            self.stream_no = len(streams)
            start = pos
            calls_before = len(self.calls)
            try:
                value, pos, proto = self._stream(pos)
            except _Fail as exc:
                proto = getattr(self, "_proto", 0)
                fail_at = getattr(self, "_at", pos)
                if streams and len(self.calls) == calls_before:
                    # bytes after a complete stream that do not start another one: data,
                    # not a pickle (torch legacy files, trailing padding)
                    trailing = self.base + start
                    break
                streams.append(Stream(self.base + start, self.base + fail_at, proto, False))
                error = PickleError(self.base + fail_at, exc.message, self.stream_no)
                break
            streams.append(Stream(self.base + start, self.base + pos, proto, True))
            values.append(value)
        if pos < n and error is None and trailing is None:
            trailing = self.base + pos
        return streams, values, error, trailing

    def _stream(self, pos: int) -> tuple[Any, int, int]:  # noqa: C901 - one opcode table
        raw = self.raw
        n = len(raw)
        stack: list[Any] = []
        meta: list[list[Any]] = []
        memo: dict[int, Any] = {}
        proto = 0
        self._proto = 0
        unpack = struct.unpack_from
        max_ops = self.max_ops
        count = self._count

        def pop_mark() -> list[Any]:
            nonlocal stack
            if not meta:
                raise _Fail("could not find MARK")
            items = stack
            stack = meta.pop()
            return items

        def pop() -> Any:
            if not stack:
                raise _Fail("unpickling stack underflow")
            return stack.pop()

        def top() -> Any:
            if not stack:
                raise _Fail("unpickling stack underflow")
            return stack[-1]

        while True:
            if pos >= n:
                self._at = pos
                raise _Fail("data ends before STOP (truncated)")
            self._at = pos
            self.ops += 1
            if self.ops > max_ops:
                raise _Limit(f"more than {max_ops} opcodes; stopped to bound work")
            op = raw[pos]
            at = pos
            pos += 1
            # -- the hot opcodes first ------------------------------------------------
            if op == 0x71:  # BINPUT
                if pos >= n:
                    raise _Fail("BINPUT truncated")
                if not stack:
                    raise _Fail("PUT with an empty stack")
                memo[raw[pos]] = stack[-1]
                pos += 1
            elif op == 0x68:  # BINGET
                if pos >= n:
                    raise _Fail("BINGET truncated")
                k = raw[pos]
                pos += 1
                if k not in memo:
                    raise _Fail(f"memo key {k} not found")
                stack.append(memo[k])
            elif op == 0x72 or op == 0x6A:  # LONG_BINPUT / LONG_BINGET (big pickles)
                if pos + 4 > n:
                    raise _Fail(f"{_OPNAMES[op]} truncated")
                k = unpack("<I", raw, pos)[0]
                pos += 4
                if op == 0x72:
                    if not stack:
                        raise _Fail("PUT with an empty stack")
                    memo[k] = stack[-1]
                else:
                    if k not in memo:
                        raise _Fail(f"memo key {k} not found")
                    stack.append(memo[k])
            elif op == 0x4E:  # NONE
                stack.append(None)
            elif op == 0x89 or op == 0x88:  # NEWFALSE / NEWTRUE
                stack.append(op == 0x88)
            elif op == 0x58 or op == 0x8C or op == 0x8D:  # BINUNICODE / SHORT_ / 8
                if op == 0x8C:
                    ln = self._take(pos, 1, "SHORT_BINUNICODE")[0]
                    pos += 1
                elif op == 0x58:
                    ln = unpack("<I", self._take(pos, 4, "BINUNICODE"))[0]
                    pos += 4
                else:
                    ln = unpack("<Q", self._take(pos, 8, "BINUNICODE8"))[0]
                    pos += 8
                b = self._take(pos, ln, "string")
                pos += ln
                try:
                    stack.append(b.decode("utf-8", "surrogatepass"))
                except UnicodeDecodeError as exc:
                    raise _Fail(f"string is not valid UTF-8: {exc.reason}") from None
            elif op == 0x4B:  # BININT1
                if pos >= n:
                    raise _Fail("BININT1 truncated")
                stack.append(raw[pos])
                pos += 1
            elif op == 0x4D:  # BININT2
                stack.append(unpack("<H", self._take(pos, 2, "BININT2"))[0])
                pos += 2
            elif op == 0x4A:  # BININT
                stack.append(unpack("<i", self._take(pos, 4, "BININT"))[0])
                pos += 4
            elif op == 0x28:  # MARK
                meta.append(stack)
                stack = []
            elif op == 0x29:  # EMPTY_TUPLE
                stack.append(())
            elif op == 0x74:  # TUPLE
                items = pop_mark()
                stack.append(tuple(items))
            elif op == 0x85 or op == 0x86 or op == 0x87:  # TUPLE1/2/3
                k = op - 0x84
                if len(stack) < k:
                    raise _Fail("unpickling stack underflow")
                items = stack[-k:]
                del stack[-k:]
                stack.append(tuple(items))
            elif op == 0x52:  # REDUCE
                args = pop()
                func = pop()
                stack.append(self._call(at, "REDUCE", func, args, None, "reduce"))
            elif op == 0x62:  # BUILD
                state = pop()
                obj = top()
                if isinstance(obj, _Node):
                    if obj.states is None:
                        obj.states = []
                    obj.states.append(state)
                    self.calls.append(
                        (at, "BUILD", "build", obj, (state,), "__setstate__", self.stream_no)
                    )
                    if self.after_build:
                        pos = self._inline_data(obj, state, pos, stack)
                elif (
                    isinstance(obj, list | tuple | _Dict | _Set)
                    or obj is None
                    or isinstance(obj, str | bytes | int | float)
                ):
                    raise _Fail(f"BUILD on {_shape(obj)}, which has no __setstate__ or __dict__")
            elif op == 0x51:  # BINPERSID
                pid = pop()
                count()
                stack.append(_Node("persid", pid))
            elif op == 0x50:  # PERSID
                line, pos = self._line(pos, "PERSID")
                try:
                    pid = line.decode("ascii")
                except UnicodeDecodeError:
                    raise _Fail("persistent IDs in protocol 0 must be ASCII strings") from None
                count()
                stack.append(_Node("persid", pid))
            elif op == 0x7D:  # EMPTY_DICT
                count()
                stack.append(_Dict())
            elif op == 0x5D:  # EMPTY_LIST
                count()
                stack.append([])
            elif op == 0x75:  # SETITEMS
                items = pop_mark()
                if len(items) % 2:
                    raise _Fail("SETITEMS with an odd number of items")
                target = top()
                self._set_items(
                    at, "SETITEMS", target, list(zip(items[0::2], items[1::2], strict=True))
                )
            elif op == 0x73:  # SETITEM
                v = pop()
                k = pop()
                self._set_items(at, "SETITEM", top(), [(k, v)])
            elif op == 0x65:  # APPENDS
                items = pop_mark()
                self._add_list(at, "APPENDS", top(), items)
            elif op == 0x61:  # APPEND
                v = pop()
                self._add_list(at, "APPEND", top(), [v])
            elif op == 0x94:  # MEMOIZE
                if not stack:
                    raise _Fail("MEMOIZE with an empty stack")
                memo[len(memo)] = stack[-1]
            elif op == 0x47:  # BINFLOAT
                stack.append(unpack(">d", self._take(pos, 8, "BINFLOAT"))[0])
                pos += 8
            elif op == 0x8A or op == 0x8B:  # LONG1 / LONG4
                if op == 0x8A:
                    ln = self._take(pos, 1, "LONG1")[0]
                    pos += 1
                else:
                    ln = unpack("<i", self._take(pos, 4, "LONG4"))[0]
                    pos += 4
                    if ln < 0:
                        raise _Fail("LONG4 byte count < 0")
                b = self._take(pos, ln, "long")
                pos += ln
                if ln > MAX_INT_BYTES:
                    stack.append(Opaque("int", f"{ln}-byte integer"))
                else:
                    stack.append(int.from_bytes(b, "little", signed=True))
            elif op == 0x42 or op == 0x43 or op == 0x8E or op == 0x96:  # bytes family
                if op == 0x43:
                    ln = self._take(pos, 1, "SHORT_BINBYTES")[0]
                    pos += 1
                elif op == 0x42:
                    ln = unpack("<I", self._take(pos, 4, "BINBYTES"))[0]
                    pos += 4
                else:
                    ln = unpack("<Q", self._take(pos, 8, _OPNAMES[op]))[0]
                    pos += 8
                b = self._take(pos, ln, "bytes")
                pos += ln
                stack.append(b)
            elif op == 0x54 or op == 0x55:  # BINSTRING / SHORT_BINSTRING
                if op == 0x55:
                    ln = self._take(pos, 1, "SHORT_BINSTRING")[0]
                    pos += 1
                else:
                    ln = unpack("<i", self._take(pos, 4, "BINSTRING"))[0]
                    pos += 4
                    if ln < 0:
                        raise _Fail("BINSTRING pickle has negative byte count")
                b = self._take(pos, ln, "string")
                pos += ln
                stack.append(_py2str(b))
            elif op == 0x53:  # STRING
                line, pos = self._line(pos, "STRING")
                if len(line) >= 2 and line[0] == line[-1] and line[:1] in (b"'", b'"'):
                    line = line[1:-1]
                else:
                    raise _Fail("the STRING opcode argument must be quoted")
                try:
                    b = codecs.escape_decode(line)[0]
                except ValueError as exc:
                    raise _Fail(f"bad STRING escape: {exc}") from None
                stack.append(_py2str(b))
            elif op == 0x56:  # UNICODE
                line, pos = self._line(pos, "UNICODE")
                try:
                    stack.append(line.decode("raw-unicode-escape"))
                except UnicodeDecodeError as exc:
                    raise _Fail(f"bad UNICODE argument: {exc.reason}") from None
            elif op == 0x49:  # INT
                line, pos = self._line(pos, "INT")
                if line == b"00":
                    stack.append(False)
                elif line == b"01":
                    stack.append(True)
                else:
                    stack.append(_text_int(line, "INT"))
            elif op == 0x4C:  # LONG
                line, pos = self._line(pos, "LONG")
                if line.endswith(b"L"):
                    line = line[:-1]
                stack.append(_text_int(line, "LONG"))
            elif op == 0x46:  # FLOAT
                line, pos = self._line(pos, "FLOAT")
                try:
                    stack.append(float(line.decode("ascii")))
                except (ValueError, UnicodeDecodeError):
                    raise _Fail("could not convert FLOAT argument to float") from None
            elif op == 0x63 or op == 0x69:  # GLOBAL / INST
                name_op = "GLOBAL" if op == 0x63 else "INST"
                mline, pos = self._line(pos, name_op)
                nline, pos = self._line(pos, name_op)
                try:
                    module = mline.decode("utf-8")
                    name = nline.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise _Fail(f"{name_op} name is not valid UTF-8: {exc.reason}") from None
                node = self._import(at, name_op, module, name, proto)
                if op == 0x63:
                    stack.append(node)
                else:
                    args = tuple(pop_mark())
                    stack.append(self._call(at, "INST", node, args, None, "inst"))
            elif op == 0x93:  # STACK_GLOBAL
                name = pop()
                module = pop()
                if isinstance(module, str) and isinstance(name, str):
                    stack.append(self._import(at, "STACK_GLOBAL", module, name, proto))
                elif isinstance(module, str | _Node) and isinstance(name, str | _Node):
                    node = _Node("computed", module, name)
                    count()
                    self.globals.append(
                        GlobalRef(self.base + at, "STACK_GLOBAL", None, None, None, node)
                    )
                    self.calls.append(
                        (at, "STACK_GLOBAL", "import", node, (module, name), None, self.stream_no)
                    )
                    stack.append(node)
                else:
                    raise _Fail(
                        f"STACK_GLOBAL requires str operands, got {_shape(module)} "
                        f"and {_shape(name)}"
                    )
            elif op == 0x82 or op == 0x83 or op == 0x84:  # EXT1/2/4
                name_op = _OPNAMES[op]
                if op == 0x82:
                    code = self._take(pos, 1, name_op)[0]
                    pos += 1
                elif op == 0x83:
                    code = unpack("<H", self._take(pos, 2, name_op))[0]
                    pos += 2
                else:
                    code = unpack("<i", self._take(pos, 4, name_op))[0]
                    pos += 4
                if code <= 0:
                    raise _Fail(f"{name_op}: extension code must be positive, got {code}")
                reg = self.ext_registry.get(code)
                if reg is not None:
                    stack.append(self._import(at, name_op, reg[0], reg[1], 4))
                else:
                    node = _Node("ext", code)
                    count()
                    self.globals.append(GlobalRef(self.base + at, name_op, None, None, None, node))
                    self.calls.append((at, name_op, "import", node, (code,), None, self.stream_no))
                    stack.append(node)
            elif op == 0x6F:  # OBJ
                items = pop_mark()
                if not items:
                    raise _Fail("OBJ without a class")
                stack.append(self._call(at, "OBJ", items[0], tuple(items[1:]), None, "obj"))
            elif op == 0x81:  # NEWOBJ
                args = pop()
                cls = pop()
                stack.append(self._call(at, "NEWOBJ", cls, args, None, "newobj"))
            elif op == 0x92:  # NEWOBJ_EX
                kwargs = pop()
                args = pop()
                cls = pop()
                stack.append(self._call(at, "NEWOBJ_EX", cls, args, kwargs, "newobj_ex"))
            elif op == 0x30:  # POP
                if stack:
                    stack.pop()
                else:
                    pop_mark()  # the real machine pops a MARK when the stack is empty
            elif op == 0x31:  # POP_MARK
                pop_mark()
            elif op == 0x32:  # DUP
                stack.append(top())
            elif op == 0x6C:  # LIST
                items = pop_mark()
                count()
                stack.append(items)
            elif op == 0x64:  # DICT
                items = pop_mark()
                if len(items) % 2:
                    raise _Fail("DICT with an odd number of items")
                d = _Dict()
                count()
                d.pairs = list(zip(items[0::2], items[1::2], strict=True))
                stack.append(d)
            elif op == 0x8F:  # EMPTY_SET
                count()
                stack.append(_Set(False))
            elif op == 0x90:  # ADDITEMS
                items = pop_mark()
                self._add_list(at, "ADDITEMS", top(), items)
            elif op == 0x91:  # FROZENSET
                items = pop_mark()
                s = _Set(True)
                s.items = items
                count()
                stack.append(s)
            elif op == 0x67 or op == 0x70:  # GET / PUT (text)
                line, pos = self._line(pos, "GET" if op == 0x67 else "PUT")
                k = _text_int(line, "memo index")
                if op == 0x67:
                    if k not in memo:
                        raise _Fail(f"memo key {k} not found")
                    stack.append(memo[k])
                else:
                    if k < 0:
                        raise _Fail("negative PUT argument")
                    if not stack:
                        raise _Fail("PUT with an empty stack")
                    memo[k] = stack[-1]
            elif op == 0x80:  # PROTO
                if pos >= n:
                    raise _Fail("PROTO truncated")
                proto = raw[pos]
                pos += 1
                if proto > 5:
                    raise _Fail(f"unsupported pickle protocol: {proto}")
                self._proto = proto
            elif op == 0x95:  # FRAME
                ln = unpack("<Q", self._take(pos, 8, "FRAME"))[0]
                pos += 8
                if ln > n - pos:
                    raise _Fail(f"FRAME of {ln} bytes runs past the end of data (truncated)")
            elif op == 0x97:  # NEXT_BUFFER
                raise _Fail("pickle stream refers to out-of-band data but no buffers are given")
            elif op == 0x98:  # READONLY_BUFFER
                top()
            elif op == 0x2E:  # STOP
                value = pop()
                return value, pos, proto
            else:
                raise _Fail(f"invalid load key {bytes([op])!r} (not a pickle opcode)")


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


# --------------------------------------------------------------------------------------
# freezing the working graph into the public frozen types
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------


def simulate(
    data: bytes | mmap.mmap,
    *,
    file: str,
    base_offset: int = 0,
    max_ops: int = DEFAULT_MAX_OPS,
    max_objects: int = DEFAULT_MAX_OBJECTS,
    max_streams: int | None = None,
    after_build: dict[str, Callable[[Any, Any, int], int | None]] | None = None,
) -> PickleTrace:
    """Run every pickle stream in ``data`` symbolically and report what a load would do.

    ``base_offset`` is where ``data`` starts in ``file`` (a member inside an archive, a
    pickle after an NPY header), so every offset reported is absolute. Several streams
    are run back to back (``max_streams`` limits them); bytes after a complete stream
    that do not start a new one are reported in ``trailing``. A stream that fails stops
    the run: ``error`` says where and why, and ``calls`` still lists everything that ran
    before, because a real load would have done it too.

    ``after_build`` maps a class (``"joblib.numpy_pickle.NumpyArrayWrapper"``) to a hook
    called after BUILD of an instance with ``(state, data, pos)``; it returns how many
    raw bytes the format's own unpickler reads there (skipped), ``-1`` when an inline
    pickle stream follows, or ``None``.
    """
    m = _Machine(data, file, base_offset, max_ops, max_objects, after_build)
    try:
        streams, values, error, trailing = m.run(max_streams)
    except RecursionError:  # pragma: no cover - the machine is iterative; belt and braces
        streams, values, trailing = [], [], None
        error = PickleError(base_offset, "nesting too deep", 0)
    fz = _Freezer()
    calls = []
    for offset, opcode, kind, func, args, method, stream in m.calls:
        if kind == "call":
            a, kw = args
            shape = tuple(_shape(x) for x in a) if isinstance(a, tuple) else (_shape(a),)
            if kw is not None:
                shape = shape + (f"kwargs {_shape(kw)}",)
            fargs = fz.freeze(a)
            if kw is not None:
                fargs = (fargs, fz.freeze(kw))
        else:
            shape = tuple(_shape(x) for x in args)
            fargs = tuple(fz.freeze(x) for x in args)
        if kind == "method" or kind == "build":
            t = _target(func)
            target = f"{t}.{method}" if t else None
        else:
            target = _target(func)
        calls.append(
            CallSite(
                base_offset + offset,
                opcode,
                kind,
                target,
                fz.freeze(func),
                fargs,
                shape,
                method,
                stream,
            )
        )
    return PickleTrace(
        file=file,
        streams=tuple(streams),
        calls=tuple(calls),
        globals=tuple(
            replace(g, computed=fz.freeze(g.computed)) if g.computed is not None else g
            for g in m.globals
        ),
        value=tuple(fz.freeze(v) for v in values),
        error=error,
        trailing=trailing,
        ops=m.ops,
    )
