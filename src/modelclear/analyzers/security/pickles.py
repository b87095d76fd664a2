"""Findings for one pickle stream (or several): what a load would import and call.

The symbolic trace (``parsers.pickle_machine``) says what a load does; this module says
whether that is acceptable. Every import is judged against the allowlist; calls of values
built at load time (``methodcaller('system')(import_module('os'))``) are resolved
statically where their arguments are constants; nested pickles (``pickle.loads`` of
bytes, possibly base64- or zlib-wrapped) are decoded without running anything and
scanned in turn.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from dataclasses import dataclass, field
from typing import Any

from ...findings import Finding, Severity, finding
from ...parsers.pickle_machine import (
    Build,
    Call,
    CallSite,
    ComputedGlobal,
    Ext,
    Global,
    GlobalRef,
    Items,
    PickleTrace,
    simulate,
)
from .allowlist import GRADE_CODES, Verdict, alias, judge

#: nested pickles are decoded at most this deep and this large
MAX_NESTED_DEPTH = 4
MAX_NESTED_BYTES = 64 * 1024 * 1024

_NESTED_LOADERS = {
    "pickle.loads",
    "pickle._loads",
    "pickle.load",
    "cloudpickle.loads",
    "dill.loads",
    "joblib.load",
    "torch.load",
    "numpy.loads",
}

_DECODERS = {
    "base64.b64decode",
    "base64.standard_b64decode",
    "base64.urlsafe_b64decode",
    "base64.decodebytes",
    "base64.b32decode",
    "base64.b16decode",
    "base64.a85decode",
    "base64.b85decode",
    "binascii.a2b_base64",
    "binascii.unhexlify",
    "binascii.a2b_hex",
    "zlib.decompress",
    "bz2.decompress",
    "lzma.decompress",
    "gzip.decompress",
    "codecs.decode",
    "_codecs.decode",
    "_codecs.encode",
    "codecs.encode",
    "builtins.bytes.fromhex",
    "builtins.bytes",
    "builtins.bytearray",
}

_RESOLVERS = {"pkgutil.resolve_name", "pydoc.locate"}
_IMPORTERS = {"importlib.import_module", "builtins.__import__", "importlib.__import__"}
_GETATTRS = {
    "builtins.getattr",
    "builtins.dict.get",
    "operator.getitem",
    "builtins.dict.__getitem__",
}


@dataclass(frozen=True)
class PickleScan:
    findings: tuple[Finding, ...]
    trace: PickleTrace
    #: the stream could not be read and nothing unsafe ran before the failure
    malformed: str | None = None
    imports: tuple[str, ...] = ()


@dataclass
class _Acc:
    findings: list[Finding] = field(default_factory=list)
    seen: dict[tuple[str, str], int] = field(default_factory=dict)
    imports: list[str] = field(default_factory=list)


def _base(v: Any) -> Any:
    """The object a BUILD/APPEND/SETITEM chain started from."""
    while isinstance(v, Build | Items):
        v = v.obj
    return v


def _dotted(g: Global) -> str:
    return f"{g.module}.{g.name}"


def _norm(dotted: str) -> str:
    """``numpy.__builtins__.exec`` → ``builtins.exec``: judge what it lands on."""
    parts = dotted.split(".")
    if "__builtins__" in parts[1:]:
        i = parts.index("__builtins__", 1)
        return ".".join(["builtins", *parts[i + 1 :]]) if i + 1 < len(parts) else "builtins"
    return dotted


def resolve(v: Any, depth: int = 0) -> str | None:
    """The dotted name a load-time expression evaluates to, when its inputs are constants."""
    if depth > 8:
        return None
    v = _base(v)
    if isinstance(v, Global):
        return _dotted(v)
    if not isinstance(v, Call) or not isinstance(v.args, tuple):
        return None
    f = v.func
    a = v.args
    if isinstance(f, Global):
        name = _dotted(f)
        if name in _RESOLVERS and a and isinstance(a[0], str):
            return a[0].replace(":", ".")
        if name in _IMPORTERS and a and isinstance(a[0], str):
            return a[0]
        if name in _GETATTRS and len(a) >= 2 and isinstance(a[1], str):
            base = resolve(a[0], depth + 1)
            return f"{base}.{a[1]}" if base else None
    if isinstance(f, Call) and isinstance(f.func, Global) and isinstance(f.args, tuple):
        inner = _dotted(f.func).replace("_operator.", "operator.")
        if inner in ("operator.attrgetter", "operator.methodcaller") and f.args:
            attr = f.args[0]
            if isinstance(attr, str) and a:
                base = resolve(a[0], depth + 1)
                return f"{base}.{attr}" if base else None
    return None


def _judge_dotted(dotted: str) -> Verdict:
    dotted = _norm(dotted)
    module, _, name = dotted.partition(".")
    return judge(module, name or module)


def static_bytes(v: Any, depth: int = 0) -> bytes | None:
    """Bytes a load-time expression yields, decoding base64/zlib/... without running code.

    Decompression is bounded: a bomb yields ``None`` instead of memory exhaustion.
    """
    if depth > 8:
        return None
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return None
    if not (isinstance(v, Call) and isinstance(v.func, Global) and isinstance(v.args, tuple)):
        return None
    name = _dotted(v.func)
    if name not in _DECODERS or not v.args:
        return None
    arg = v.args[0]
    raw: bytes | None
    if isinstance(arg, str):
        raw = (
            arg.encode("latin-1", "replace") if "encode" in name else arg.encode("ascii", "ignore")
        )
    else:
        raw = static_bytes(arg, depth + 1)
    if raw is None:
        return None
    opt = v.args[1] if len(v.args) > 1 and isinstance(v.args[1], str) else ""
    try:
        if name in ("_codecs.encode", "codecs.encode") and isinstance(arg, str):
            return arg.encode(opt or "utf-8")
        if (
            name.endswith(("b64decode", "decodebytes"))
            or name == "binascii.a2b_base64"
            or (name.endswith("codecs.decode") and opt in ("base64", "base_64", "base64_codec"))
        ):
            return base64.b64decode(raw + b"===", altchars=b"-_" if "urlsafe" in name else None)
        if name.endswith(("b32decode",)):
            return base64.b32decode(raw)
        if name.endswith(("b16decode", "unhexlify", "a2b_hex", "fromhex")) or (
            name.endswith("codecs.decode") and opt in ("hex", "hex_codec")
        ):
            return binascii.unhexlify(raw.replace(b" ", b""))
        if name.endswith("a85decode"):
            return base64.a85decode(raw)
        if name.endswith("b85decode"):
            return base64.b85decode(raw)
        if name == "zlib.decompress" or (name.endswith("codecs.decode") and "zlib" in opt):
            return _bounded(zlib.decompressobj(zlib.MAX_WBITS | 32), raw)
        if name == "gzip.decompress":
            return _bounded(zlib.decompressobj(zlib.MAX_WBITS | 16), raw)
        if name == "bz2.decompress":
            import bz2  # imported when a pickle asks for it, not at every start-up

            return _bounded(bz2.BZ2Decompressor(), raw)
        if name == "lzma.decompress":
            import lzma

            return _bounded(lzma.LZMADecompressor(), raw)
        if name in ("builtins.bytes", "builtins.bytearray"):
            return raw
    except (ValueError, binascii.Error, zlib.error, OSError, LookupError, EOFError):
        return None
    return None


def _bounded(d: Any, raw: bytes) -> bytes | None:
    out = d.decompress(raw, MAX_NESTED_BYTES + 1)
    return None if len(out) > MAX_NESTED_BYTES else out


def _callable_name(c: CallSite) -> str | None:
    if c.target:
        return c.target
    return resolve(c.func) if c.func is not None else None


def _emit(acc: _Acc, code: str, key: str, message: str, **kw: Any) -> None:
    """Findings deduplicated per (code, callable): a checkpoint imports a class many times."""
    k = (code, key)
    if k in acc.seen:
        f = acc.findings[acc.seen[k]]
        f.extra["occurrences"] = f.extra.get("occurrences", 1) + 1
        return
    acc.seen[k] = len(acc.findings)
    acc.findings.append(finding(code, message, **kw))


def scan_trace(
    trace: PickleTrace,
    *,
    file: str,
    member: str | None = None,
    depth: int = 0,
    expected_streams: int = 1,
    torchscript: bool = False,
) -> PickleScan:
    acc = _Acc()
    ctx = _Ctx(file, f" in {member}" if member else "", {"member": member} if member else {})
    unsafe_before_error = False
    for g in trace.globals:
        if _judge_global(acc, ctx, g, torchscript):
            unsafe_before_error = True
    if _judge_calls(acc, ctx, trace, depth, torchscript):
        unsafe_before_error = True
    malformed = _stream_errors(acc, ctx, trace, unsafe_before_error, expected_streams)
    return PickleScan(tuple(acc.findings), trace, malformed, tuple(dict.fromkeys(acc.imports)))


@dataclass(frozen=True)
class _Ctx:
    """Where findings of one scan point: the file, `` in <member>`` and its extra field."""

    file: str
    where: str
    extra: dict[str, Any]


def _judge_global(acc: _Acc, ctx: _Ctx, g: GlobalRef, torchscript: bool) -> bool:
    """Findings for one import; True when a loader would import something unsafe."""
    file, where, extra = ctx.file, ctx.where, ctx.extra
    if g.module is None:
        _unnamed_global(acc, ctx, g)
        return True
    dotted = f"{g.module}.{g.name}"
    acc.imports.append(dotted)
    v = judge(g.module, g.name or "", torchscript=torchscript)
    if v.status == "allowed":
        return False
    if v.status == "review":
        _emit(
            acc,
            "MC312",
            v.target,
            f"imports {v.target}{where}: a library class torch.load(weights_only=True) "
            "refuses; loading needs full unpickling",
            file=file,
            offset=g.offset,
            callable=v.target,
            **extra,
        )
        return False
    written = f" (written as {g.written_as[0]}.{g.written_as[1]})" if g.written_as else ""
    if v.via and v.target != _aliased(dotted):
        _emit(
            acc,
            "MC308",
            v.target,
            f"{g.opcode} {dotted}{where} walks an attribute path to {v.target}, which "
            f"{v.what} ({v.grade})",
            file=file,
            offset=g.offset,
            callable=v.target,
            severity=_sev(v.severity or "critical"),
            grade=v.grade,
            **extra,
        )
        return True
    _emit(
        acc,
        GRADE_CODES[v.grade or "unknown"],
        v.target,
        f"{g.opcode} imports {v.target}{written}{where}, which {v.what}",
        file=file,
        offset=g.offset,
        callable=v.target,
        grade=v.grade,
        **extra,
    )
    return True


def _unnamed_global(acc: _Acc, ctx: _Ctx, g: GlobalRef) -> None:
    """An import whose name is not in the stream: an extension code or a computed name."""
    if isinstance(g.computed, Ext):
        _emit(
            acc,
            "MC307",
            f"ext:{g.computed.code}",
            f"{g.opcode} code {g.computed.code}{ctx.where} imports an unknown callable "
            "from the copyreg extension registry",
            file=ctx.file,
            offset=g.offset,
            callable=f"<ext {g.computed.code}>",
            **ctx.extra,
        )
        return
    comp = g.computed
    parts = []
    if isinstance(comp, ComputedGlobal):
        for part in (comp.module, comp.name):
            parts.append(part if isinstance(part, str) else _describe(part))
    _emit(
        acc,
        "MC306",
        f"computed:{g.offset}",
        f"STACK_GLOBAL{ctx.where} imports a global whose name is computed at load time "
        f"({' . '.join(parts) or 'unknown'})",
        file=ctx.file,
        offset=g.offset,
        callable=None,
        **ctx.extra,
    )


def _judge_calls(
    acc: _Acc, ctx: _Ctx, trace: PickleTrace, depth: int, torchscript: bool
) -> bool:
    """Findings for the calls a load makes; True when one of them is unsafe."""
    unsafe = False
    for c in trace.calls:
        if c.kind == "call":
            if not isinstance(c.func, Global):
                _call_of_value(acc, c, ctx.file, ctx.where, ctx.extra)
                unsafe = True
            name = c.target
            if name and alias(_norm(name)) in _NESTED_LOADERS:
                _nested(acc, c, ctx.file, ctx.where, ctx.extra, depth)
        elif c.kind in ("build", "method") and isinstance(_base(c.func), Global):
            base = _base(c.func)
            v = judge(base.module, base.name, torchscript=torchscript)
            if v.status != "allowed":
                unsafe = True
                _emit(
                    acc,
                    "MC315",
                    f"{c.target}",
                    f"{c.opcode}{ctx.where} calls {c.method} on the imported object "
                    f"{_dotted(base)} itself, changing shared interpreter state",
                    file=ctx.file,
                    offset=c.offset,
                    callable=c.target,
                    **ctx.extra,
                )
    return unsafe


def _stream_errors(
    acc: _Acc, ctx: _Ctx, trace: PickleTrace, unsafe_before_error: bool, expected_streams: int
) -> str | None:
    """A broken stream (a finding once unsafe code ran, else ``malformed``) and extra streams."""
    malformed = None
    if trace.error is not None:
        ran = [c for c in trace.calls if c.kind == "call"]
        if unsafe_before_error and ran:
            acc.findings.append(
                finding(
                    "MC309",
                    f"pickle stream{ctx.where} breaks at offset {trace.error.offset} "
                    f"({trace.error.message}) after {len(ran)} call(s) a loader has already "
                    "executed",
                    file=ctx.file,
                    offset=trace.error.offset,
                    callable=_callable_name(ran[0]),
                    **ctx.extra,
                )
            )
        else:
            malformed = f"pickle{ctx.where} at offset {trace.error.offset}: {trace.error.message}"
    elif expected_streams > 1 and len(trace.streams) < expected_streams:
        # legacy torch files hold five streams; fewer means the file stops early
        malformed = (f"{len(trace.streams)} of the {expected_streams} pickle streams{ctx.where} "
                     "the loader reads (truncated)")
    if len(trace.streams) > expected_streams:
        acc.findings.append(
            finding(
                "MC313",
                f"{len(trace.streams)} pickle streams{ctx.where} (expected {expected_streams}); "
                "every stream was scanned",
                file=ctx.file,
                offset=trace.streams[expected_streams].start,
                **ctx.extra,
            )
        )
    return malformed


def _aliased(dotted: str) -> str:
    return alias(dotted)


def _describe(v: Any) -> str:
    if isinstance(v, Call):
        f = v.func
        fn = _dotted(f) if isinstance(f, Global) else "a computed callable"
        args = ", ".join(
            repr(a) if isinstance(a, str | int) else type(a).__name__
            for a in (v.args if isinstance(v.args, tuple) else ())
        )
        return f"{fn}({args})"
    return type(v).__name__


def _call_of_value(acc: _Acc, c: CallSite, file: str, where: str, extra: dict[str, Any]) -> None:
    target = resolve(c.func)
    if isinstance(c.func, Call) and isinstance(c.func.func, Call):
        # methodcaller('system', 'x')(obj): the call made is obj.system('x')
        inner = c.func.func
        if isinstance(inner.func, Global) and inner.func.name == "methodcaller":
            base = resolve(c.args[0]) if isinstance(c.args, tuple) and c.args else None
            if isinstance(inner.args, tuple) and inner.args and isinstance(inner.args[0], str):
                target = f"{base}.{inner.args[0]}" if base else None
    if isinstance(c.func, Call) and isinstance(c.func.func, Global):
        if c.func.func.name == "methodcaller" and isinstance(c.args, tuple) and c.args:
            base = resolve(c.args[0])
            margs = c.func.args if isinstance(c.func.args, tuple) else ()
            if base and margs and isinstance(margs[0], str):
                target = f"{base}.{margs[0]}"
    if target:
        v = _judge_dotted(target)
        if v.status == "allowed":
            return
        sev = v.severity or "high"
        msg = (
            f"{c.opcode}{where} calls a value built at load time that resolves to {v.target}, "
            f"which {v.what or 'is outside the allowlist'}"
        )
        _emit(
            acc,
            "MC314",
            f"{c.offset}",
            msg,
            file=file,
            offset=c.offset,
            callable=v.target,
            severity=_sev(sev),
            grade=v.grade,
            **extra,
        )
        return
    desc = _describe(c.func) if isinstance(c.func, Call) else type(c.func).__name__
    _emit(
        acc,
        "MC314",
        f"{c.offset}",
        f"{c.opcode}{where} calls a value built at load time "
        f"({desc}); its target cannot be resolved statically",
        file=file,
        offset=c.offset,
        callable=None,
        **extra,
    )


def _sev(s: str | Severity) -> Severity:
    return Severity(s)


def _nested(
    acc: _Acc, c: CallSite, file: str, where: str, extra: dict[str, Any], depth: int
) -> None:
    args = c.args if isinstance(c.args, tuple) else ()
    data = static_bytes(args[0]) if args else None
    if data is None:
        acc.findings.append(
            finding(
                "MC310",
                f"{c.target}{where} unpickles data that cannot be decoded statically",
                file=file,
                offset=c.offset,
                callable=c.target,
                **extra,
            )
        )
        return
    if depth >= MAX_NESTED_DEPTH:
        acc.findings.append(
            finding(
                "MC310",
                f"{c.target}{where} unpickles a pickle nested more than "
                f"{MAX_NESTED_DEPTH} levels deep; not scanned further",
                file=file,
                offset=c.offset,
                callable=c.target,
                **extra,
            )
        )
        return
    inner = scan_trace(simulate(data, file=file), file=file, depth=depth + 1)
    called = (f.extra.get("callable") for f in inner.findings)
    inner_calls = sorted({c for c in called if isinstance(c, str)})
    acc.findings.append(
        finding(
            "MC310",
            f"{c.target}{where} unpickles embedded data ({len(data)} bytes) that imports "
            f"{', '.join(inner_calls) or 'only allowed globals'}",
            file=file,
            offset=c.offset,
            callable=c.target,
            nested_findings=[f.to_json() for f in inner.findings],
            **extra,
        )
    )
    for f in inner.findings:
        acc.findings.append(
            finding(
                f.code,
                f"nested pickle: {f.message}",
                file=file,
                offset=c.offset,
                callable=f.extra.get("callable"),
                severity=f.severity,
                nested_offset=f.offset,
                **extra,
            )
        )
