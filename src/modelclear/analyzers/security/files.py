"""Per-file examination: which format the bytes are, and every pickle inside them.

Formats are recognised by content first (a pickle named ``.safetensors`` is a pickle) and
by name second. Containers are opened the way the loaders that accept them open them:
torch zip archives member by member (every member that holds a pickle, whatever its
name), legacy torch files as their sequence of pickles, ``.npy``/``.npz`` object arrays,
joblib's inline arrays, and 7z/tar/gzip wrappers. Tensor data is never read: a 500 GB
checkpoint costs its directory, its pickles and a two-byte sniff per member.
"""


from __future__ import annotations

from typing import Any

from ...findings import finding
from ...parsers.formats import report_kind, spec, unpickling_suffixes
from ...parsers.pickle_machine import simulate
from ...parsers.sniff import GZIP_MAGIC, NPY_MAGIC, SEVENZ, TORCH_LEGACY_MAGIC
from .arrays import scan_npy
from .compressed import compression_of, scan_compressed
from .containers import is_tar, scan_7z, scan_tar, scan_zip
from .outcome import (
    MAX_DEPTH,
    MAX_PICKLE_BYTES,
    MAX_UNPACKED,
    PROBE,
    Outcome,
    looks_like_pickle,
    mapped,
    probe_pickle,
    scan_pickle_buffer,
)
from .ziparchive import is_zip

__all__ = [
    "GZIP_MAGIC", "LEGACY_MAGIC", "MAX_DEPTH", "MAX_PICKLE_BYTES", "MAX_UNPACKED", "NPY_MAGIC",
    "PICKLE_SUFFIXES", "PROBE", "PURE_PICKLE", "SEVENZ_MAGIC", "TEXT_SUFFIXES", "TORCH_NAMES",
    "Outcome", "examine_buffer", "looks_like_pickle", "mapped", "probe_pickle",
    "scan_pickle_buffer",
]

LEGACY_MAGIC = TORCH_LEGACY_MAGIC
SEVENZ_MAGIC = SEVENZ

#: Names that make no format claim (or claim a container) but that old torch, joblib and
#: TorchServe releases used for pickles; with the registry's unpickling suffixes they are
#: the names under which any content is probed as a pickle.
_LOOSE_PICKLE_NAMES = frozenset({".dat", ".data", ".npy", ".tar", ".th", ".mar"})
PICKLE_SUFFIXES = unpickling_suffixes() | _LOOSE_PICKLE_NAMES
#: names whose only format is pickle: a bad stream here is a malformed pickle
PURE_PICKLE = frozenset(spec("pickle").suffixes)
#: names torch.load accepts (zip archive or legacy pickle); anything else there is
#: malformed. Not ``.bin``: raw arrays and other frameworks' weights use it too.
TORCH_NAMES = (frozenset(spec("pytorch").suffixes) | frozenset(spec("checkpoint").suffixes)
               | {".th", ".mar"}) - {".bin"}

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


def _legacy_torch(buf: Any, path: str) -> Outcome | None:
    """Legacy (non-zip) torch files: magic, protocol, sys_info, object, storage keys."""
    if not looks_like_pickle(bytes(buf[:2])):
        return None
    first = simulate(bytes(buf[: min(len(buf), 64)]), file=path, max_streams=1)
    if not (first.value and first.value[0] == LEGACY_MAGIC):
        return None
    out = scan_pickle_buffer(buf, path=path, max_streams=5, expected_streams=5)
    out.kind = report_kind("pytorch-legacy")
    return out



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
        out.not_examined(
            f"containers nested more than {MAX_DEPTH} deep",
            f"{name}: containers nested more than {MAX_DEPTH} levels deep; not examined",
            file=path,
        )
        return out
    if is_zip(head):
        return scan_zip(buf, path, depth, suffix)
    if head.startswith(NPY_MAGIC):
        return scan_npy(buf, path)
    if head.startswith(SEVENZ):
        return scan_7z(buf, path, depth)
    packed = compression_of(head, loose=archived or suffix in PICKLE_SUFFIXES)
    if packed is not None:
        return scan_compressed(buf, path, depth, packed)
    if is_tar(buf):
        return scan_tar(buf, path, depth)
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
