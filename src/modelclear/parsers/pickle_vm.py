"""The opcode interpreter of the symbolic pickle machine (see :mod:`.pickle_machine`)."""

from __future__ import annotations

import _compat_pickle
import codecs
import mmap
import struct
from collections.abc import Callable
from typing import Any

from .pickle_freeze import _Freezer
from .pickle_types import (
    _OPNAMES,
    MAX_INT_BYTES,
    GlobalRef,
    Opaque,
    PickleError,
    Stream,
    _Dict,
    _Fail,
    _Limit,
    _Node,
    _py2str,
    _Set,
    _shape,
    _text_int,
)


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
        self.calls: list[tuple[Any, ...]] = []  # (offset, opcode, kind, func, args, method, stream)
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

    def _call(self, offset: int, opcode: str, func: Any, args: Any, kwargs: Any, how: str) -> _Node:
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

    def _method(
        self, offset: int, opcode: str, obj: Any, method: str, args: tuple[Any, ...]
    ) -> None:
        self.calls.append((offset, opcode, "method", obj, args, method, self.stream_no))

    def _add_list(self, offset: int, opcode: str, target: Any, items: list[Any]) -> None:
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

    def _set_items(self, offset: int, opcode: str, target: Any, pairs: list[Any]) -> None:
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

    def run(
        self, max_streams: int | None
    ) -> tuple[list[Stream], list[Any], PickleError | None, int | None]:
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
        # Long on purpose: one function (~400 lines) because it is the hot loop, run up to
        # DEFAULT_MAX_OPS times per file, and keeping stack, memo and position in fast
        # locals of one frame instead of a handler call per opcode is what makes large
        # pickles affordable. Each branch is one opcode, in opcode-table order.
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
