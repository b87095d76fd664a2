"""Per-file examination: which format the bytes are, and every pickle inside them.

Formats are recognised by content first (a pickle named ``.safetensors`` is a pickle) and
by name second. Containers are opened the way the loaders that accept them open them:
torch zip archives member by member (every member that holds a pickle, whatever its
name), legacy torch files as their sequence of pickles, ``.npy``/``.npz`` object arrays,
joblib's inline arrays, and 7z/tar/gzip wrappers. Tensor data is never read: a 500 GB
checkpoint costs its directory, its pickles and a two-byte sniff per member.
"""

from __future__ import annotations

import ast
import io
import mmap
import re
import struct
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ...errors import InputError
from ...findings import Finding, finding
from ...parsers.pickle_machine import Build, Call, Global, simulate
from ...release import ReleaseFile
from .pickles import scan_trace
from .ziparchive import ZipArchive, ZipError, crc_ok, is_zip, open_zip

#: a pickle read whole (archive member, nested stream) may not exceed this
MAX_PICKLE_BYTES = 1 << 30
#: members of tar/7z/gzip containers are unpacked in memory up to this size
MAX_UNPACKED = 1 << 30
#: nesting of containers (a tar in a gzip holding a zip...)
MAX_DEPTH = 4
#: a member that is not named .pkl is probed with this many bytes
PROBE = 1 << 16

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
SEVENZ_MAGIC = b"7z\xbc\xaf\x27\x1c"
GZIP_MAGIC = b"\x1f\x8b"
NPY_MAGIC = b"\x93NUMPY"

PICKLE_SUFFIXES = {
    ".pkl",
    ".pickle",
    ".pt",
    ".pth",
    ".bin",
    ".ckpt",
    ".joblib",
    ".dat",
    ".data",
    ".npy",
    ".mar",
    ".sav",
    ".p",
    ".pck",
    ".pcl",
    ".th",
    ".tar",
}
#: names whose only format is pickle: a bad stream here is a malformed pickle
PURE_PICKLE = {".pkl", ".pickle", ".joblib", ".p", ".pck", ".pcl", ".sav"}
#: names torch.load accepts (zip archive or legacy pickle); anything else there is malformed
TORCH_NAMES = {".pt", ".pth", ".ckpt", ".th", ".mar"}
TEXT_SUFFIXES = {
    ".md",
    ".txt",
    ".json",
    ".jsonl",
    ".yaml",
    ".yml",
    ".toml",
    ".cfg",
    ".ini",
    ".py",
    ".jinja",
    ".j2",
    ".model",
    ".tiktoken",
    ".csv",
    ".tsv",
    ".html",
    ".xml",
    ".gitattributes",
    ".gitignore",
    ".sh",
    ".license",
}
_STORAGE = re.compile(r"(^|/)(\.data/|data/)[^/]*$")


@dataclass
class Outcome:
    """What examining one buffer found (accumulated through nested containers)."""

    kind: str = "other"
    findings: list[Finding] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    pickle: bool = False

    def add(self, other: Outcome) -> None:
        self.findings += other.findings
        self.imports += other.imports
        self.malformed += other.malformed
        self.unsupported += other.unsupported
        self.pickle = self.pickle or other.pickle


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
        try:
            yield mm
        finally:
            mm.close()


def _fileobj(buf: Any) -> Any:
    """A seekable file object over ``buf`` without copying a mapped file."""
    if isinstance(buf, mmap.mmap):
        buf.seek(0)
        return buf
    return io.BytesIO(bytes(buf))


def _too_big(out: Outcome, path: str, what: str, size: int) -> bool:
    if size <= MAX_UNPACKED:
        return False
    out.unsupported.append(f"{what} is {size} bytes, over the {MAX_UNPACKED}-byte limit")
    out.findings.append(
        finding(
            "MC341",
            f"{what} of {size} bytes is over the {MAX_UNPACKED}-byte limit; not examined",
            file=path,
        )
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


# --------------------------------------------------------------------------------------
# pickles
# --------------------------------------------------------------------------------------


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
    trace = simulate(
        buf,
        file=path,
        base_offset=base,
        max_streams=max_streams,
        after_build={
            "joblib.numpy_pickle.NumpyArrayWrapper": _joblib_array,
        },
    )
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
    if any(g.module == "joblib.numpy_pickle" for g in trace.globals):
        out.kind = "joblib"
    return out


def _legacy_torch(buf: Any, path: str) -> Outcome | None:
    """Legacy (non-zip) torch files: magic, protocol, sys_info, object, storage keys."""
    if not looks_like_pickle(bytes(buf[:2])):
        return None
    first = simulate(bytes(buf[: min(len(buf), 64)]), file=path, max_streams=1)
    if not (first.value and first.value[0] == LEGACY_MAGIC):
        return None
    out = scan_pickle_buffer(buf, path=path, max_streams=5, expected_streams=5)
    out.kind = "torch-legacy"
    return out


# --------------------------------------------------------------------------------------
# archives
# --------------------------------------------------------------------------------------


def _zip(buf: Any, path: str, depth: int, suffix: str) -> Outcome:
    out = Outcome(kind="zip")
    try:
        za = open_zip(buf)
    except ZipError as exc:
        out.malformed.append(f"zip archive: {exc}")
        return out
    names = za.names()
    if any(n.endswith("data.pkl") for n in names) or any(n.endswith("/version") for n in names):
        out.kind = "torch-zip"
    elif suffix == ".npz" or (names and all(n.endswith(".npy") for n in names)):
        out.kind = "npz"
    # TorchScript archives (torch.jit.save) carry compiled code and constants.pkl
    torchscript = out.kind == "torch-zip" and any(
        "/code/" in f"/{n}" or n.endswith("constants.pkl") for n in names
    )
    for text, off in za.problems:
        out.findings.append(finding("MC320", f"zip structure: {text}", file=path, offset=off))
    for m in za.members:
        if m.name.endswith("/"):
            continue
        if m.data_offset < 0:
            out.malformed.append(f"member {m.name}: no local header")
            continue
        if m.method not in (0, 8):
            out.unsupported.append(f"member {m.name} uses compression method {m.method}")
            out.findings.append(
                finding(
                    "MC341",
                    f"member {m.name} uses zip compression method {m.method}, "
                    "which the scanner cannot open",
                    file=path,
                    offset=m.header_offset,
                    member=m.name,
                )
            )
            continue
        head = za.head(m, 16)
        lname = m.name.lower()
        if lname.endswith(".npy") or head.startswith(NPY_MAGIC):
            sub = _npy_member(za, m, path)
            out.add(sub)
            continue
        candidate = lname.endswith((".pkl", ".pickle"))
        if not candidate and looks_like_pickle(head):
            candidate = not _STORAGE.search(m.name) or probe_pickle(za.head(m, PROBE))
        elif not candidate and head[:1] in (b"c", b"(", b"i", b"]", b"}", b"\x80"):
            # text members (TorchScript code/*.py) can start with an opcode letter: only a
            # complete stream counts
            candidate = not _STORAGE.search(m.name) and probe_pickle(za.head(m, PROBE), strict=True)
        if not candidate:
            if depth < MAX_DEPTH and (is_zip(head) or head.startswith((SEVENZ_MAGIC, GZIP_MAGIC))):
                try:
                    data = za.read(m, MAX_UNPACKED)
                except ZipError as exc:
                    out.malformed.append(str(exc))
                    continue
                sub = examine_buffer(data, path=path, name=m.name, depth=depth + 1)
                _tag(sub, m.name)
                out.add(sub)
            continue
        try:
            data = za.read(m, MAX_PICKLE_BYTES)
        except ZipError as exc:
            out.malformed.append(str(exc))
            continue
        if not crc_ok(data, m):
            out.findings.append(
                finding(
                    "MC320",
                    f"zip structure: member {m.name!r} fails its CRC check "
                    "(zipfile refuses it, torch loads it)",
                    file=path,
                    offset=m.header_offset,
                    member=m.name,
                )
            )
        if not lname.endswith("data.pkl"):
            out.findings.append(
                finding(
                    "MC321",
                    f"member {m.name} holds a pickle",
                    file=path,
                    offset=m.data_offset,
                    member=m.name,
                )
            )
        sub = scan_pickle_buffer(
            data,
            path=path,
            base=m.data_offset if m.method == 0 else 0,
            member=m.name,
            torchscript=torchscript,
        )
        out.add(sub)
    if out.kind == "torch-zip":
        out.pickle = True
    return out


def _tag(sub: Outcome, member: str) -> None:
    for f in sub.findings:
        f.extra.setdefault("member", member)


def _npy_header(buf: Any) -> tuple[dict, int] | str:
    """Parse an NPY header; returns (header dict, data offset) or an error text."""
    head = bytes(buf[:10])
    if not head.startswith(NPY_MAGIC) or len(head) < 10:
        return "not an NPY file (bad magic)"
    major = head[6]
    if major == 1:
        (hlen,) = struct.unpack_from("<H", head, 8)
        start = 10
    elif major in (2, 3):
        h = bytes(buf[:12])
        if len(h) < 12:
            return "NPY header truncated"
        (hlen,) = struct.unpack_from("<I", h, 8)
        start = 12
    else:
        return f"unsupported NPY version {major}"
    if start + hlen > len(buf):
        return f"NPY header of {hlen} bytes runs past the end of the file"
    if hlen > 1 << 20:
        return f"NPY header of {hlen} bytes is implausibly large"
    text = bytes(buf[start : start + hlen]).decode("latin-1")
    try:
        header = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return "NPY header is not a Python literal"
    if not isinstance(header, dict) or not {"descr", "shape", "fortran_order"} <= set(header):
        return "NPY header lacks descr/shape/fortran_order"
    return header, start + hlen


def _has_object(descr: Any) -> bool:
    if isinstance(descr, str):
        return "O" in descr.lstrip("<>|=")[:1]
    if isinstance(descr, list):
        return any(_has_object(d[1]) for d in descr if isinstance(d, tuple) and len(d) >= 2)
    return False


def _npy(buf: Any, path: str, base: int = 0, member: str | None = None) -> Outcome:
    out = Outcome(kind="npy")
    parsed = _npy_header(buf)
    where = f"{member}: " if member else ""
    if isinstance(parsed, str):
        out.malformed.append(where + parsed)
        return out
    header, data_at = parsed
    if _has_object(header["descr"]):
        out.pickle = True
        out.findings.append(
            finding(
                "MC322",
                f"{where}array has dtype {header['descr']!r}: numpy loads it with pickle",
                file=path,
                offset=base + data_at,
                member=member,
            )
        )
        sub = scan_pickle_buffer(buf[data_at:], path=path, base=base + data_at, member=member)
        out.add(sub)
        return out
    shape = header["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
        out.malformed.append(f"{where}NPY shape {shape!r} is not a tuple of sizes")
    return out


def _npy_member(za: ZipArchive, m: Any, path: str) -> Outcome:
    head = za.head(m, (1 << 16) + 16)
    parsed = _npy_header(head)
    if isinstance(parsed, str):
        o = Outcome(kind="npy")
        o.malformed.append(f"{m.name}: {parsed}")
        return o
    header, _ = parsed
    if not _has_object(header["descr"]):
        return Outcome(kind="npy")
    try:
        data = za.read(m, MAX_PICKLE_BYTES)
    except ZipError as exc:
        o = Outcome(kind="npy")
        o.malformed.append(str(exc))
        return o
    return _npy(data, path, base=m.data_offset if m.method == 0 else 0, member=m.name)


def _sevenz(buf: Any, path: str, depth: int) -> Outcome:
    out = Outcome(kind="7z")
    try:
        import py7zr
    except ImportError:
        out.unsupported.append("7z archive: py7zr is not installed")
        out.findings.append(
            finding(
                "MC341", "7z archive not examined: the py7zr package is not installed", file=path
            )
        )
        return out
    try:
        if _too_big(out, path, "7z archive", len(buf)):
            return out
        # py7zr wants a real io object; the size check above bounds the copy
        with py7zr.SevenZipFile(io.BytesIO(bytes(buf)), mode="r") as z:
            if z.needs_password():
                out.unsupported.append("7z archive is encrypted")
                out.findings.append(
                    finding(
                        "MC341",
                        "7z archive is encrypted; its members could not be examined",
                        file=path,
                    )
                )
                return out
            infos = [i for i in z.list() if not i.is_directory]
            total = sum(i.uncompressed or 0 for i in infos)
            if _too_big(out, path, "7z archive content", total):
                return out
            contents = _sevenz_read(z)
    except Exception as exc:  # py7zr raises many exception types for corrupt archives
        if type(exc).__name__ == "PasswordRequired":  # encrypted headers
            out.unsupported.append("7z archive is encrypted")
            out.findings.append(
                finding(
                    "MC341",
                    "7z archive has encrypted headers; its members could not be examined",
                    file=path,
                )
            )
            return out
        out.malformed.append(f"7z archive: {type(exc).__name__}: {str(exc)[:200]}")
        return out
    out.findings.append(
        finding("MC323", f"7z archive with {len(contents)} member(s); members scanned", file=path)
    )
    for name, data in contents.items():
        sub = examine_buffer(data, path=path, name=name, depth=depth + 1, archived=True)
        _tag(sub, name)
        out.add(sub)
    return out


def _sevenz_read(z: Any) -> dict[str, bytes]:
    """Member contents of an open 7z archive, for py7zr 0.20 and 1.x alike."""
    if hasattr(z, "readall"):
        return {k: v.read() for k, v in z.readall().items()}
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        z.extractall(path=d)
        root = Path(d)
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _gzip(buf: Any, path: str, depth: int) -> Outcome:
    out = Outcome(kind="gzip")
    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        data = d.decompress(
            memoryview(buf) if isinstance(buf, mmap.mmap) else buf, MAX_UNPACKED + 1
        )
    except zlib.error as exc:
        out.malformed.append(f"gzip stream: {exc}")
        return out
    if len(data) > MAX_UNPACKED:
        out.unsupported.append("gzip content over the size limit")
        out.findings.append(
            finding("MC341", f"gzip content is over {MAX_UNPACKED} bytes; not examined", file=path)
        )
        return out
    out.findings.append(
        finding("MC323", "gzip-compressed content; decompressed and scanned", file=path)
    )
    sub = examine_buffer(data, path=path, name="(gunzipped)", depth=depth + 1, archived=True)
    out.add(sub)
    if sub.kind != "other":
        out.kind = f"gzip+{sub.kind}"
    return out


def _tar(buf: Any, path: str, depth: int) -> Outcome:
    out = Outcome(kind="tar")
    try:
        if _too_big(out, path, "tar archive", len(buf)):
            return out
        with tarfile.open(fileobj=_fileobj(buf), mode="r:") as t:
            members = t.getmembers()
            out.findings.append(
                finding(
                    "MC323",
                    f"tar archive with {len(members)} member(s); members scanned",
                    file=path,
                )
            )
            for m in members:
                if not m.isfile():
                    continue
                if m.size > MAX_UNPACKED:
                    out.unsupported.append(f"tar member {m.name} too large")
                    continue
                fh = t.extractfile(m)
                if fh is None:
                    continue
                data = fh.read()
                # legacy torch "tar" checkpoints keep their pickles in named members
                sub = examine_buffer(data, path=path, name=m.name, depth=depth + 1, archived=True)
                _tag(sub, m.name)
                out.add(sub)
    except tarfile.TarError as exc:
        out.malformed.append(f"tar archive: {exc}")
    return out


def _is_tar(buf: Any) -> bool:
    return len(buf) >= 512 and bytes(buf[257:262]) == b"ustar"


# --------------------------------------------------------------------------------------
# dispatcher
# --------------------------------------------------------------------------------------


def examine_buffer(
    buf: Any, *, path: str, name: str, depth: int = 0, archived: bool = False
) -> Outcome:
    """Examine bytes by content; ``name`` (file or member name) breaks ties."""
    head = bytes(buf[:512])
    lname = name.lower()
    suffix = lname[lname.rfind(".") :] if "." in lname.rsplit("/", 1)[-1] else ""
    if depth > MAX_DEPTH:
        out = Outcome()
        out.unsupported.append(f"containers nested more than {MAX_DEPTH} deep")
        out.findings.append(
            finding(
                "MC341",
                f"{name}: containers nested more than {MAX_DEPTH} levels deep; not examined",
                file=path,
            )
        )
        return out
    if is_zip(head):
        return _zip(buf, path, depth, suffix)
    if head.startswith(NPY_MAGIC):
        return _npy(buf, path)
    if head.startswith(SEVENZ_MAGIC):
        return _sevenz(buf, path, depth)
    if head.startswith(GZIP_MAGIC):
        return _gzip(buf, path, depth)
    if _is_tar(buf):
        return _tar(buf, path, depth)
    if looks_like_pickle(head):
        legacy = _legacy_torch(buf, path)
        out = legacy if legacy is not None else scan_pickle_buffer(buf, path=path)
        _mislabel(out, path, suffix)
        return out
    if suffix in PURE_PICKLE or (archived and probe_pickle(buf)):
        if len(buf) == 0:
            out = Outcome(kind="pickle")
            out.malformed.append("file is empty")
            return out
        out = scan_pickle_buffer(buf, path=path)
        _mislabel(out, path, suffix)
        return out
    if suffix in PICKLE_SUFFIXES or suffix not in TEXT_SUFFIXES:
        # protocol 0/1 pickles have no PROTO opcode: recognise them by running the start
        if len(buf) and probe_pickle(buf, strict=suffix not in PICKLE_SUFFIXES):
            out = scan_pickle_buffer(buf, path=path)
            _mislabel(out, path, suffix)
            return out
        if suffix in TORCH_NAMES and not archived:
            out = Outcome(kind="other")
            out.malformed.append(
                "file is empty"
                if len(buf) == 0
                else f"not a {_format_name(suffix)}: content is neither a zip archive nor a "
                f"pickle (starts with {head[:8]!r})"
            )
            return out
    return Outcome()


def _format_name(suffix: str) -> str:
    return {
        ".pt": "PyTorch file",
        ".pth": "PyTorch file",
        ".bin": "PyTorch .bin file",
        ".ckpt": "checkpoint",
        ".npy": "NPY file",
        ".joblib": "joblib file",
    }.get(suffix, f"{suffix or 'extensionless'} pickle file")


def _mislabel(out: Outcome, path: str, suffix: str) -> None:
    if suffix in (".safetensors", ".gguf", ".npy", ".json", ".txt", ".onnx", ".msgpack", ".h5"):
        out.findings.append(
            finding(
                "MC343",
                f"pickle content in a file named {suffix}: a loader chosen by "
                "extension or falling back to pickle would unpickle it",
                file=path,
                offset=0,
            )
        )
