"""Finding tensors in a torch checkpoint's symbolic object graph.

:mod:`.torchzip` reads the archive (or the legacy record stream) and runs the pickle on
the symbolic machine; this module walks the resulting value for
``_rebuild_tensor_v2``/``_v3``, ``_rebuild_parameter`` and ``_rebuild_from_type_v2`` calls
over storage persistent ids, and names tensors after the object graph. Anything built
another way makes ``known`` False: never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..findings import Finding, finding
from . import pickle_machine as pm
from .safetensors import DTYPE_BITS
from .tensors import TensorInfo

#: nesting followed when looking for tensors in the unpickled object graph
MAX_WALK_DEPTH = 64

# Legacy typed-storage classes (``torch.FloatStorage`` …) → our dtype names.
_STORAGE_DTYPES: dict[str, str] = {
    "FloatStorage": "F32",
    "DoubleStorage": "F64",
    "HalfStorage": "F16",
    "BFloat16Storage": "BF16",
    "LongStorage": "I64",
    "IntStorage": "I32",
    "ShortStorage": "I16",
    "CharStorage": "I8",
    "ByteStorage": "U8",
    "BoolStorage": "BOOL",
    "ComplexFloatStorage": "C64",
    "ComplexDoubleStorage": "C128",
    "QInt8Storage": "I8",
    "QUInt8Storage": "U8",
    "QInt32Storage": "I32",
    "QUInt4x2Storage": "U8",
    "QUInt2x4Storage": "U8",
    "UntypedStorage": "U8",
}

# ``torch.<dtype>`` globals (``_rebuild_tensor_v3``) → our dtype names.
_TORCH_DTYPES: dict[str, str] = {
    "float32": "F32",
    "float": "F32",
    "float64": "F64",
    "double": "F64",
    "float16": "F16",
    "half": "F16",
    "bfloat16": "BF16",
    "int64": "I64",
    "long": "I64",
    "int32": "I32",
    "int": "I32",
    "int16": "I16",
    "short": "I16",
    "int8": "I8",
    "uint8": "U8",
    "uint16": "U16",
    "uint32": "U32",
    "uint64": "U64",
    "bool": "BOOL",
    "complex32": "C32",
    "chalf": "C32",
    "complex64": "C64",
    "cfloat": "C64",
    "complex128": "C128",
    "cdouble": "C128",
    "float8_e4m3fn": "F8_E4M3",
    "float8_e5m2": "F8_E5M2",
    "float8_e4m3fnuz": "F8_E4M3FNUZ",
    "float8_e5m2fnuz": "F8_E5M2FNUZ",
    "float8_e8m0fnu": "F8_E8M0",
    "float4_e2m1fn_x2": "F4_X2",  # two fp4 values per byte-sized element
}

_BITS: dict[str, int] = {**DTYPE_BITS, "C32": 32, "C128": 128, "F4_X2": 8}

_REBUILD_TENSOR = {"torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3"}
_REBUILD_PARAM = {
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
}
_REBUILD_FROM_TYPE = "torch._tensor._rebuild_from_type_v2"
_MODULE_SLOTS = {"_parameters", "_buffers", "_modules"}


@dataclass(frozen=True)
class Storage:
    key: str
    dtype: str  # dtype of the storage class (U8 for untyped storages)
    numel: int  # as declared in the persistent id (bytes for untyped storages)
    nbytes: int  # bytes actually present in the file
    offset: int  # absolute offset of the raw bytes; -1 when compressed
    location: str | None



def _persistent_ids(v: Any, depth: int) -> Iterator[pm.PersistentId]:
    if depth > MAX_WALK_DEPTH:
        return
    if isinstance(v, pm.PersistentId):
        yield v
    elif isinstance(v, pm.Call):
        for part in (v.args, v.listitems, v.dictitems, v.kwargs):
            yield from _persistent_ids(part, depth + 1)
    elif isinstance(v, pm.Build):
        yield from _persistent_ids(v.obj, depth + 1)
        yield from _persistent_ids(v.state, depth + 1)
    elif isinstance(v, dict):
        for k, x in v.items():
            yield from _persistent_ids(k, depth + 1)
            yield from _persistent_ids(x, depth + 1)
    elif isinstance(v, list | tuple):
        for x in v:
            yield from _persistent_ids(x, depth + 1)


def _storage_dtype(storage_type: Any) -> str | None:
    if isinstance(storage_type, pm.Global) and storage_type.module in ("torch", "torch.storage"):
        return _STORAGE_DTYPES.get(storage_type.name)
    return None


def _target(v: Any) -> str | None:
    if isinstance(v, pm.Call) and isinstance(v.func, pm.Global):
        return v.func.dotted
    return None


def _key_name(k: Any) -> str:
    if isinstance(k, pm.Key):
        k = k.value
    return k if isinstance(k, str) else repr(k)


@dataclass
class _Walk:
    path: str
    locate: Callable[[str], tuple[int, int]]
    tensors: list[tuple[TensorInfo, tuple[str, int, int]]]
    storages: dict[str, Storage]
    known: bool = True
    why: str = ""


def _tensors_from_value(
    path: str, value: Any, locate: Callable[[str], tuple[int, int]]
) -> tuple[list[tuple[TensorInfo, tuple[str, int, int]]], dict[str, Storage], bool, str]:
    w = _Walk(path=path, locate=locate, tensors=[], storages={})
    _walk(w, value, "", 0)
    w.tensors = [(t._replace(name=t.name or "(root)"), extra) for t, extra in w.tensors]
    return w.tensors, w.storages, w.known, w.why


def _unknown(w: _Walk, why: str) -> None:
    if w.known:
        w.known, w.why = False, why


def _walk(w: _Walk, v: Any, name: str, depth: int) -> None:
    if depth > MAX_WALK_DEPTH:
        _unknown(w, f"object graph nested deeper than {MAX_WALK_DEPTH} at {name!r}")
        return
    target = _target(v)
    if target in _REBUILD_TENSOR or target in _REBUILD_PARAM or target == _REBUILD_FROM_TYPE:
        _tensor(w, v, name)
        return

    def sub(k: str) -> str:
        return f"{name}.{k}" if name else k

    if isinstance(v, pm.Call):
        if target is not None and "_rebuild" in target and target.startswith("torch"):
            _unknown(w, f"{name or 'the object'} is built by {target}")
            return
        for i, x in enumerate(v.listitems):
            _walk(w, x, sub(str(i)), depth + 1)
        for k, x in v.dictitems:
            _walk(w, x, sub(_key_name(k)), depth + 1)
        if target in ("collections.OrderedDict", "builtins.dict"):
            return
        for i, x in enumerate(v.args if isinstance(v.args, tuple) else ()):
            if any(True for _ in _persistent_ids(x, 0)):
                _walk(w, x, sub(str(i)), depth + 1)
    elif isinstance(v, pm.Build):
        _walk(w, v.obj, name, depth + 1)
        _walk(w, v.state, name, depth + 1)  # a pickled nn.Module keeps its tensors here
    elif isinstance(v, dict):
        for k, x in v.items():
            key = _key_name(k)
            # nn.Module state: name tensors the way state_dict() does ("0.weight")
            _walk(w, x, name if key in _MODULE_SLOTS else sub(key), depth + 1)
    elif isinstance(v, list | tuple):
        for i, x in enumerate(v):
            _walk(w, x, sub(str(i)), depth + 1)
    elif isinstance(v, pm.PersistentId):
        _unknown(w, f"storage referenced outside a tensor at {name!r}")


def _int_tuple(v: Any) -> tuple[int, ...] | None:
    if isinstance(v, tuple | list) and all(
        isinstance(x, int) and not isinstance(x, bool) for x in v
    ):
        return tuple(v)
    if (
        isinstance(v, pm.Call)
        and _target(v) == "torch.Size"
        and isinstance(v.args, tuple)
        and v.args
    ):
        return _int_tuple(v.args[0])
    return None


def _tensor(w: _Walk, v: pm.Call, name: str) -> None:
    target = _target(v)
    args = v.args if isinstance(v.args, tuple) else ()
    if target in _REBUILD_PARAM or target == _REBUILD_FROM_TYPE:
        _wrapped_tensor(w, target, args, name)
        return
    parsed = _rebuild_args(target, args)
    if isinstance(parsed, str):
        _unknown(w, f"{name!r}: {parsed}")
        return
    _record_tensor(w, name, parsed)


def _wrapped_tensor(w: _Walk, target: str | None, args: tuple[Any, ...], name: str) -> None:
    """A parameter or tensor subclass: the tensor is the rebuild call it wraps."""
    if target in _REBUILD_PARAM:
        if not args:
            _unknown(w, f"{name!r}: parameter without data")
            return
        inner = args[0]
        if _target(inner) not in _REBUILD_TENSOR and _target(inner) != _REBUILD_FROM_TYPE:
            _unknown(w, f"{name!r}: parameter data built by {_target(inner) or 'something else'}")
            return
        _tensor(w, inner, name)
        return
    # _rebuild_from_type_v2(func, new_type, args, state): the tensor is func(*args)
    if len(args) >= 3 and isinstance(args[0], pm.Global) and isinstance(args[2], tuple):
        rebuilt = pm.Call(func=args[0], args=args[2])
        if _target(rebuilt) in _REBUILD_TENSOR | _REBUILD_PARAM:
            _tensor(w, rebuilt, name)
            return
    _unknown(w, f"{name!r}: tensor subclass rebuilt in a non-standard way")


@dataclass(frozen=True)
class _Rebuild:
    """The constant arguments of one ``_rebuild_tensor_v2``/``_v3`` call."""

    key: str
    location: Any
    storage_numel: int
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]
    storage_dtype: str
    dtype: str


def _rebuild_args(target: str | None, args: tuple[Any, ...]) -> _Rebuild | str:
    """The call's arguments, or why they are not plain constants we can read."""
    if len(args) < 4 or not isinstance(args[0], pm.PersistentId):
        return f"{target} without a storage"
    pid = args[0].value
    if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
        return "unrecognised persistent id"
    storage_type, key, location, snumel = pid[1], pid[2], pid[3], pid[4]
    offset, size, stride = args[1], _int_tuple(args[2]), _int_tuple(args[3])
    sdtype = _storage_dtype(storage_type)
    dtype = sdtype
    if target == "torch._utils._rebuild_tensor_v3":
        dt = args[6] if len(args) > 6 else None
        dtype = (
            _TORCH_DTYPES.get(dt.name)
            if isinstance(dt, pm.Global) and dt.module == "torch"
            else None
        )
    if (
        dtype is None
        or sdtype is None
        or not isinstance(key, str)
        or not isinstance(snumel, int)
        or not isinstance(offset, int)
        or isinstance(offset, bool)
        or size is None
        or stride is None
        or len(size) != len(stride)
        or offset < 0
        or snumel < 0
        or any(d < 0 for d in size)
    ):
        return "tensor arguments are not plain constants"
    return _Rebuild(key, location, snumel, offset, size, stride, sdtype, dtype)


def _record_tensor(w: _Walk, name: str, r: _Rebuild) -> None:
    """Note the tensor, its storage, and how far into the storage it reaches."""
    elsize = _BITS[r.dtype] // 8
    s_elsize = _BITS[r.storage_dtype] // 8
    data_off, present = w.locate(r.key)
    declared = r.storage_numel * s_elsize
    if r.key not in w.storages:
        w.storages[r.key] = Storage(
            key=r.key,
            dtype=r.storage_dtype,
            numel=r.storage_numel,
            nbytes=present,
            offset=data_off,
            location=r.location if isinstance(r.location, str) else None,
        )
    numel = 1
    for d in r.size:
        numel *= d
    if numel:
        extent_elems = (
            r.offset + 1 + sum((d - 1) * s for d, s in zip(r.size, r.stride, strict=True))
        )
    else:
        extent_elems = 0
    extent = extent_elems * elsize
    info = TensorInfo(
        name=name,
        dtype=r.dtype,
        shape=r.size,
        nbytes=numel * elsize,
        file=w.path,
        offset=data_off + r.offset * elsize if data_off >= 0 else -1,
    )
    w.tensors.append((info, (r.key, extent, min(present, declared))))


def _tensor_findings(
    path: str,
    tensors: list[tuple[TensorInfo, tuple[str, int, int]]],
    known: bool,
    why: str,
    findings: list[Finding],
) -> None:
    for t, (key, extent, available) in tensors:
        if extent > available:
            findings.append(
                finding(
                    "MC162",
                    f"tensor {t.name!r} needs {extent} bytes of storage {key!r}, which holds "
                    f"{available}",
                    file=path,
                    quote=t.name,
                )
            )
    if not known:
        findings.append(
            finding(
                "MC161",
                f"tensor dtypes/shapes not readable statically: {why}",
                file=path,
            )
        )
