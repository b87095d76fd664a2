"""What examining bytes found, and the pickle scan every container ends in.

Kept apart from the dispatcher (:mod:`.files`) and the container readers
(:mod:`.containers`, :mod:`.arrays`) because all of them build and merge outcomes.
"""

from __future__ import annotations

import io
import mmap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ...errors import InputError
from ...findings import Finding, finding
from ...parsers.pickle_machine import Build, Call, Global, simulate
from ...release import ReleaseFile
from .pickles import scan_trace

#: a pickle read whole (archive member, nested stream) may not exceed this
MAX_PICKLE_BYTES = 1 << 30
#: members of tar/7z/gzip containers are unpacked in memory up to this size
MAX_UNPACKED = 1 << 30
#: nesting of containers (a tar in a gzip holding a zip...)
MAX_DEPTH = 4
#: a member that is not named .pkl is probed with this many bytes
PROBE = 1 << 16


@dataclass
class Outcome:
    """What examining one buffer found (accumulated through nested containers)."""

    kind: str = "other"
    findings: list[Finding] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    pickle: bool = False
    #: files a joblib < 0.10 pickle loads beside itself (NDArrayWrapper: np.load with
    #: allow_pickle=True; ZNDArrayWrapper: a ZF file), as (name, offset of the BUILD)
    sidecars: list[tuple[str, int]] = field(default_factory=list)

    def not_examined(self, why: str, message: str, **where: Any) -> None:
        """Part of the input was not read: ``unsupported`` plus its high finding (MC341),
        so what the scanner could not judge is never reported clean."""
        self.unsupported.append(why)
        self.findings.append(finding("MC341", message, **where))

    def add(self, other: Outcome) -> None:
        self.findings += other.findings
        self.imports += other.imports
        self.malformed += other.malformed
        self.unsupported += other.unsupported
        self.pickle = self.pickle or other.pickle
        self.sidecars += other.sidecars


@contextmanager
def mapped(f: ReleaseFile) -> Iterator[Any]:
    """The file's bytes without reading them: an mmap (or b'' for an empty file)."""
    if f.size == 0:
        yield b""
        return
    with f.open() as fh:
        try:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise InputError(f.path, f"cannot map file: {exc}") from None
        if hasattr(mmap, "MADV_RANDOM"):
            # the scan touches a few pages (headers, pickles, a directory): without this
            # hint the kernel's read-around pulls in megabytes of tensor data per touch
            mm.madvise(mmap.MADV_RANDOM)
        try:
            yield mm
        finally:
            mm.close()


def fileobj(buf: Any) -> Any:
    """A seekable file object over ``buf`` without copying a mapped file."""
    if isinstance(buf, mmap.mmap):
        buf.seek(0)
        return buf
    return io.BytesIO(bytes(buf))


def too_big(out: Outcome, path: str, what: str, size: int) -> bool:
    if size <= MAX_UNPACKED:
        return False
    out.not_examined(
        f"{what} is {size} bytes, over the {MAX_UNPACKED}-byte limit",
        f"{what} of {size} bytes is over the {MAX_UNPACKED}-byte limit; not examined",
        file=path,
    )
    return True


def looks_like_pickle(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0x80 and head[1] <= 5


def probe_pickle(buf: Any, limit: int = PROBE, *, strict: bool = False) -> bool:
    """Does the start of ``buf`` run as a pickle that imports or calls something?

    ``strict`` (for names that say nothing about pickle) also wants the first stream to
    reach STOP, so text that happens to start with an opcode letter is not taken for one.
    """
    t = simulate(bytes(buf[:limit]), file="", max_ops=20_000)
    complete = bool(t.streams and t.streams[0].complete)
    if strict:
        return complete and (bool(t.globals) or t.ops > 2)
    return bool(t.globals) or (complete and t.ops > 2)




def _joblib_array(state: Any, data: Any, pos: int) -> int | None:
    """Bytes joblib reads after BUILD of a NumpyArrayWrapper (see joblib.numpy_pickle)."""
    if not isinstance(state, dict):
        return None
    shape = state.get("shape")
    dtype = state.get("dtype")
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
        return None
    kind, itemsize = _dtype_info(dtype)
    if kind is None:
        return None
    if kind == "O":
        return -1
    count = 1
    for d in shape:
        count *= d
    skip = 0
    if "numpy_array_alignment_bytes" in state:
        if pos >= len(data):
            return 0
        skip = 1 + data[pos]
    return skip + count * itemsize


def _dtype_info(dtype: Any) -> tuple[str | None, int]:
    """Kind letter and item size from a symbolic ``numpy.dtype(...)`` with its BUILD state."""
    state = None
    while isinstance(dtype, Build):
        state = dtype.state
        dtype = dtype.obj
    if not (isinstance(dtype, Call) and isinstance(dtype.func, Global)):
        return None, 0
    if dtype.func.name != "dtype" or not isinstance(dtype.args, tuple) or not dtype.args:
        return None, 0
    spec = dtype.args[0]
    if not isinstance(spec, str) or not spec:
        return None, 0
    kind = spec[0]
    if kind == "O":
        return "O", 8
    elsize = None
    if isinstance(state, tuple) and len(state) >= 6 and isinstance(state[5], int):
        elsize = state[5] if state[5] > 0 else None
        if isinstance(state[2], tuple) or (len(state) > 3 and state[3] is not None):
            # structured dtypes: any object field makes numpy pickle the array
            if "O" in repr(state[3:5]):
                return "O", 8
    if elsize is None:
        digits = spec[1:]
        if not digits.isdigit():
            return None, 0
        elsize = int(digits)
    return kind, elsize


#: joblib's wrappers for arrays kept in files beside the pickle (joblib < 0.10 wrote them;
#: every joblib since still loads them), under each module path they were pickled from
_SIDECAR_WRAPPERS = tuple(
    f"{module}.{cls}"
    for module in ("joblib.numpy_pickle", "joblib.numpy_pickle_compat",
                   "sklearn.externals.joblib.numpy_pickle")
    for cls in ("NDArrayWrapper", "ZNDArrayWrapper")
)


def _sidecar_hook(found: list[tuple[str, int]], base: int) -> Any:
    """A BUILD hook noting the file an array wrapper names (joblib opens it right there)."""
    def hook(state: Any, data: Any, pos: int) -> int | None:
        name = state.get("filename") if isinstance(state, dict) else None
        found.append((name if isinstance(name, str) else repr(name), base + pos))
        return None
    return hook


def scan_pickle_buffer(
    buf: Any,
    *,
    path: str,
    base: int = 0,
    member: str | None = None,
    max_streams: int | None = None,
    expected_streams: int = 1,
    torchscript: bool = False,
) -> Outcome:
    out = Outcome(kind="pickle", pickle=True)
    hooks = {name: _sidecar_hook(out.sidecars, base) for name in _SIDECAR_WRAPPERS}
    hooks["joblib.numpy_pickle.NumpyArrayWrapper"] = _joblib_array
    trace = simulate(buf, file=path, base_offset=base, max_streams=max_streams,
                     after_build=hooks)
    if not trace.streams and trace.error is None:
        out.malformed.append(f"{member or 'file'} is empty")
        return out
    scan = scan_trace(
        trace,
        file=path,
        member=member,
        expected_streams=expected_streams,
        torchscript=torchscript,
    )
    out.findings += scan.findings
    out.imports += scan.imports
    if scan.malformed:
        out.malformed.append(scan.malformed)
    if any((g.module or "").endswith("joblib.numpy_pickle") for g in trace.globals) or out.sidecars:
        out.kind = "joblib"
    return out


