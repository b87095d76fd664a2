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

import mmap
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .pickle_freeze import _Freezer
from .pickle_types import (
    DEFAULT_MAX_OBJECTS,
    DEFAULT_MAX_OPS,
    MAX_FREEZE_DEPTH,
    MAX_INT_BYTES,
    OPCODE_NAMES,
    Build,
    Call,
    CallSite,
    ComputedGlobal,
    Cycle,
    Ext,
    Global,
    GlobalRef,
    Items,
    Key,
    Opaque,
    PersistentId,
    PickleError,
    PickleTrace,
    Stream,
    _shape,
    _target,
)
from .pickle_vm import _Machine

__all__ = [
    "DEFAULT_MAX_OBJECTS", "DEFAULT_MAX_OPS", "MAX_FREEZE_DEPTH", "MAX_INT_BYTES",
    "OPCODE_NAMES", "Build", "Call", "CallSite", "ComputedGlobal", "Cycle", "Ext", "Global",
    "GlobalRef", "Items", "Key", "Opaque", "PersistentId", "PickleError", "PickleTrace",
    "Stream", "simulate",
]




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
