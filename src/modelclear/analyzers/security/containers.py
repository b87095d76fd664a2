"""Containers a loader opens: zip (torch archives, npz), 7z, gzip and tar.

Each reader bounds what it unpacks (:data:`~.outcome.MAX_UNPACKED`) and hands every
member back to :func:`.files.examine_buffer`, so a pickle is found however deep it is
packed (up to :data:`~.outcome.MAX_DEPTH` levels).
"""

from __future__ import annotations

import io
import re
from typing import Any

from ...findings import finding
from ...parsers.formats import report_kind
from ...parsers.sniff import NPY_MAGIC, SEVENZ
from .arrays import scan_npy_member
from .compressed import compression_of
from .outcome import (
    MAX_PICKLE_BYTES,
    MAX_UNPACKED,
    PROBE,
    Outcome,
    fileobj,
    looks_like_pickle,
    probe_pickle,
    scan_pickle_buffer,
    too_big,
)
from .ziparchive import Member, ZipArchive, ZipError, ZipTooBig, crc_ok, is_zip, open_zip

_STORAGE = re.compile(r"(^|/)(\.data/|data/)[^/]*$")
TORCH_ZIP = report_kind("pytorch-zip")
NPZ = report_kind("npz")


def _examine(data: Any, *, path: str, name: str, depth: int, archived: bool = False) -> Outcome:
    # members go back through the dispatcher, which imports this module
    from .files import examine_buffer

    return examine_buffer(data, path=path, name=name, depth=depth, archived=archived)


def scan_zip(buf: Any, path: str, depth: int, suffix: str) -> Outcome:
    out = Outcome(kind="zip")
    try:
        za = open_zip(buf)
    except ZipError as exc:
        out.malformed.append(f"zip archive: {exc}")
        return out
    names = za.names()
    if any(n.endswith("data.pkl") for n in names) or any(n.endswith("/version") for n in names):
        out.kind = TORCH_ZIP
    elif suffix == ".npz" or (names and all(n.endswith(".npy") for n in names)):
        out.kind = NPZ
    # TorchScript archives (torch.jit.save) carry compiled code and constants.pkl
    torchscript = out.kind == TORCH_ZIP and any(
        "/code/" in f"/{n}" or n.endswith("constants.pkl") for n in names
    )
    for text, off in za.problems:
        out.findings.append(finding("MC320", f"zip structure: {text}", file=path, offset=off))
    for m in za.members:
        _zip_member(out, za, m, path, depth, torchscript)
    if out.kind == TORCH_ZIP:
        out.pickle = True
    return out




def _zip_member(
    out: Outcome, za: ZipArchive, m: Member, path: str, depth: int, torchscript: bool
) -> None:
    """One member: arrays, pickles (by name or by content) and nested containers."""
    if m.name.endswith("/"):
        return
    if m.data_offset < 0:
        out.malformed.append(f"member {m.name}: no local header")
        return
    if m.method not in (0, 8):
        out.not_examined(
            f"member {m.name} uses compression method {m.method}",
            f"member {m.name} uses zip compression method {m.method}, "
            "which the scanner cannot open",
            file=path,
            offset=m.header_offset,
            member=m.name,
        )
        return
    head = za.head(m, 16)
    lname = m.name.lower()
    if lname.endswith(".npy") or head.startswith(NPY_MAGIC):
        sub = scan_npy_member(za, m, path)
        out.add(sub)
        return
    candidate = lname.endswith((".pkl", ".pickle"))
    if not candidate and looks_like_pickle(head):
        candidate = not _STORAGE.search(m.name) or probe_pickle(za.head(m, PROBE))
    elif not candidate and head[:1] in (b"c", b"(", b"i", b"]", b"}", b"\x80"):
        # text members (TorchScript code/*.py) can start with an opcode letter: only a
        # complete stream counts
        candidate = not _STORAGE.search(m.name) and probe_pickle(za.head(m, PROBE), strict=True)
    if not candidate:
        if out.kind == TORCH_ZIP and _STORAGE.search(m.name):
            return  # tensor bytes: torch copies them into a storage, never unpacks them
        nested = is_zip(head) or head.startswith(SEVENZ) or is_tar(za.head(m, 512))
        if nested or compression_of(head, loose=lname.endswith(_PICKLE_NAMES)):
            # past MAX_DEPTH the dispatcher says "not examined" (unsupported), never skips
            data = _read_member(out, za, m, path, MAX_UNPACKED)
            if data is None:
                return
            sub = _examine(data, path=path, name=m.name, depth=depth + 1, archived=True)
            _tag(sub, m.name)
            out.add(sub)
        return
    data = _read_member(out, za, m, path, MAX_PICKLE_BYTES)
    if data is None:
        return
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


#: member names whose loader is a pickle loader (weak compression signatures count there)
_PICKLE_NAMES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".bin", ".ckpt", ".sav")


def _read_member(out: Outcome, za: ZipArchive, m: Member, path: str, limit: int) -> Any:
    """A member's bytes, or None after saying why they were not read (fails closed)."""
    try:
        return za.read(m, limit)
    except ZipTooBig as exc:
        out.not_examined(
            str(exc),
            f"{exc}; not examined",
            file=path,
            offset=m.header_offset,
            member=m.name,
        )
    except ZipError as exc:
        out.malformed.append(str(exc))
    return None


def _tag(sub: Outcome, member: str) -> None:
    for f in sub.findings:
        f.extra.setdefault("member", member)



def scan_7z(buf: Any, path: str, depth: int) -> Outcome:
    out = Outcome(kind="7z")
    try:
        import py7zr
    except ImportError:
        out.not_examined(
            "7z archive: py7zr is not installed",
            "7z archive not examined: the py7zr package is not installed",
            file=path,
        )
        return out
    try:
        if too_big(out, path, "7z archive", len(buf)):
            return out
        # py7zr wants a real io object; the size check above bounds the copy
        with py7zr.SevenZipFile(io.BytesIO(bytes(buf)), mode="r") as z:
            if z.needs_password():
                out.not_examined(
                    "7z archive is encrypted",
                    "7z archive is encrypted; its members could not be examined",
                    file=path,
                )
                return out
            infos = [i for i in z.list() if not i.is_directory]
            total = sum(i.uncompressed or 0 for i in infos)
            if too_big(out, path, "7z archive content", total):
                return out
            contents = _sevenz_read(z)
    except Exception as exc:  # py7zr raises many exception types for corrupt archives
        if type(exc).__name__ == "PasswordRequired":  # encrypted headers
            out.not_examined(
                "7z archive is encrypted",
                "7z archive has encrypted headers; its members could not be examined",
                file=path,
            )
            return out
        out.malformed.append(f"7z archive: {type(exc).__name__}: {str(exc)[:200]}")
        return out
    out.findings.append(
        finding("MC323", f"7z archive with {len(contents)} member(s); members scanned", file=path)
    )
    for name, data in contents.items():
        sub = _examine(data, path=path, name=name, depth=depth + 1, archived=True)
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


def scan_tar(buf: Any, path: str, depth: int) -> Outcome:
    import tarfile  # only for tar files: ~2 ms of every start-up otherwise

    out = Outcome(kind="tar")
    try:
        if too_big(out, path, "tar archive", len(buf)):
            return out
        with tarfile.open(fileobj=fileobj(buf), mode="r:") as t:
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
                    out.not_examined(
                        f"tar member {m.name} too large",
                        f"tar member {m.name} is {m.size} bytes, over the "
                        f"{MAX_UNPACKED}-byte limit; not examined",
                        file=path,
                        member=m.name,
                    )
                    continue
                fh = t.extractfile(m)
                if fh is None:
                    continue
                data = fh.read()
                # legacy torch "tar" checkpoints keep their pickles in named members
                sub = _examine(data, path=path, name=m.name, depth=depth + 1, archived=True)
                _tag(sub, m.name)
                out.add(sub)
    except (tarfile.TarError, ValueError, OSError, EOFError) as exc:
        out.malformed.append(f"tar archive: {exc or type(exc).__name__} (truncated or corrupt)")
    return out


def is_tar(buf: Any) -> bool:
    return len(buf) >= 512 and bytes(buf[257:262]) == b"ustar"

