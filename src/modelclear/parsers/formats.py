"""The format registry: every file format modelclear knows, in one ordered table.

Before this table, each fact about a format (its extensions, magic bytes, whether its
loader unpickles, who reads its headers, who scans it) was copied into the detector,
the inventory, the weights analyzer, the security dispatcher and the policy checks, and
the copies drifted. Now those modules read :data:`REGISTRY`; adding a format is one
parser module plus one row here (see docs/formats.md, "Adding a format").

Rows are of two kinds. *Content* rows have a ``sniff`` and are what
:func:`~.detect.detect_format` returns; they are tried in table order, so a row whose
test is weaker (text, binary) comes after the ones it must not shadow. *Claim-only*
rows (``pytorch``, ``checkpoint``) have no sniff: they are what a name promises when
several contents are legitimate behind it (``.bin`` may hold a torch zip, a legacy
torch file or a bare pickle), and ``agrees`` lists those contents.

Scanners live in :mod:`modelclear.analyzers.security`, which imports the parsers; the
rows name them through small functions that import on call, so this module can be
imported by the parsers' users without pulling the security package in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from . import sniff as s
from .tensors import HeaderSummary

if TYPE_CHECKING:
    from ..analyzers.security.files import Outcome
    from ..release import Release, ReleaseFile

#: Recognises a format from a sniffed prefix (and, for formats without magic, the name).
Sniff = Callable[[s.Head], bool]
#: Reads a weights file's headers (never its tensor data).
HeaderReader = Callable[["ReleaseFile"], HeaderSummary]
#: Examines one file for the security report; never executes or unpickles anything.
Scanner = Callable[["ReleaseFile", "Release | None"], "Outcome"]


@dataclass(frozen=True)
class FormatSpec:
    """One file format: how it is named, recognised, read and scanned."""

    #: canonical name: what detect_format / extension_format return and JSON reports show
    name: str
    #: lower-case file-name endings that claim this format (each belongs to one row)
    suffixes: tuple[str, ...] = ()
    #: content test; None for claim-only rows, which detection never returns
    sniff: Sniff | None = None
    #: does the usual loader run pickle on it (torch.load, pickle.load, joblib.load)?
    unpickles: bool = False
    #: "weights" when a file of this content is model weights whatever its name says
    component: str | None = None
    #: text formats are told apart by name once the bytes are known to be text
    text: bool = False
    #: other contents a loader chosen by this name handles correctly
    agrees: frozenset[str] = frozenset()
    #: reads the tensor headers (weights analyzer); None: tensors not listed
    header: HeaderReader | None = None
    #: security scanner; None makes the file ``unsupported``, never ``clean``
    scanner: Scanner | None = None
    #: the ``kind`` the security report gives this format when it differs from ``name``
    #: (kept for the JSON schema, version 1)
    report_kind: str | None = None

    @property
    def detected(self) -> bool:
        return self.sniff is not None


# ------------------------------------------------------------------ header readers


def _safetensors_headers(f: ReleaseFile) -> HeaderSummary:
    from .safetensors import summarize

    return summarize(f)


def _gguf_headers(f: ReleaseFile) -> HeaderSummary:
    from .gguf import summarize

    return summarize(f)


def _torch_headers(f: ReleaseFile) -> HeaderSummary:
    from .torchzip import summarize

    return summarize(f)


# ------------------------------------------------------------------------ scanners


def _scan_buffer(f: ReleaseFile, release: Release | None) -> Outcome:
    from ..analyzers.security.scanners import scan_buffer

    return scan_buffer(f, release)


def _scan_safetensors(f: ReleaseFile, release: Release | None) -> Outcome:
    from ..analyzers.security.scanners import scan_safetensors

    return scan_safetensors(f, release)


def _scan_gguf(f: ReleaseFile, release: Release | None) -> Outcome:
    from ..analyzers.security.scanners import scan_gguf

    return scan_gguf(f, release)


def _scan_json(f: ReleaseFile, release: Release | None) -> Outcome:
    from ..analyzers.security.scanners import scan_json

    return scan_json(f, release)


def _scan_python(f: ReleaseFile, release: Release | None) -> Outcome:
    from ..analyzers.security.scanners import scan_python

    return scan_python(f, release)


def _scan_keras(f: ReleaseFile, release: Release | None) -> Outcome:
    from ..analyzers.security.keras import scan_keras

    return scan_keras(f, release)


def _scan_template(f: ReleaseFile, release: Release | None) -> Outcome:
    from ..analyzers.security.scanners import scan_template

    return scan_template(f, release)


# ---------------------------------------------------------------------- the table

_TORCHISH = frozenset({"pytorch-zip", "pytorch-legacy", "pickle", "binary"})

#: Every format, content rows in detection order (first match wins).
REGISTRY: tuple[FormatSpec, ...] = (
    FormatSpec("empty", sniff=lambda h: not h.data, scanner=_scan_buffer),
    FormatSpec("lfs-pointer", sniff=lambda h: h.data.startswith(s.LFS_POINTER),
               scanner=_scan_buffer),
    FormatSpec("gguf", (".gguf",), lambda h: h.data.startswith(s.GGUF_MAGIC),
               component="weights", header=_gguf_headers, scanner=_scan_gguf),
    FormatSpec("numpy", (".npy",), lambda h: h.data.startswith(s.NPY_MAGIC),
               component="weights", scanner=_scan_buffer, report_kind="npy"),
    FormatSpec("keras", (".h5", ".hdf5", ".keras"),
               lambda h: s.is_hdf5(h.data) or h.zip_kind == "keras",
               component="weights", agrees=frozenset({"zip"}), scanner=_scan_keras),
    FormatSpec("pytorch-zip", sniff=lambda h: h.zip_kind == "pytorch-zip", unpickles=True,
               component="weights", header=_torch_headers, scanner=_scan_buffer,
               report_kind="torch-zip"),
    FormatSpec("npz", (".npz",), lambda h: h.zip_kind == "npz", component="weights",
               agrees=frozenset({"zip"}), scanner=_scan_buffer),
    FormatSpec("zip", (".zip",), lambda h: h.zip_kind == "zip",
               agrees=frozenset({"npz", "pytorch-zip", "keras"}), scanner=_scan_buffer),
    FormatSpec("7z", (".7z",), lambda h: h.data.startswith(s.SEVENZ), scanner=_scan_buffer),
    FormatSpec("gzip", (".tar.gz", ".tgz", ".gz"), lambda h: h.data.startswith(s.GZIP_MAGIC),
               scanner=_scan_buffer),
    FormatSpec("tar", (".tar",), lambda h: s.is_tar(h.data), scanner=_scan_buffer),
    FormatSpec("safetensors", (".safetensors",), lambda h: s.is_safetensors(h.data),
               component="weights", header=_safetensors_headers, scanner=_scan_safetensors),
    FormatSpec("pytorch-legacy", sniff=lambda h: h.data.startswith(s.TORCH_LEGACY_PREFIX),
               unpickles=True, component="weights", header=_torch_headers,
               scanner=_scan_buffer, report_kind="torch-legacy"),
    # joblib's zlib-compressed pickles have no pickle opcodes up front: the name decides
    FormatSpec("pickle", (".pkl", ".pickle", ".joblib", ".p", ".pck", ".pcl", ".sav"),
               lambda h: s.is_pickle(h.data)
               or (h.text is None and h.claim == "pickle" and s.is_zlib(h.data)),
               unpickles=True, component="weights",
               agrees=frozenset({"pytorch-legacy", "gzip", "binary"}), scanner=_scan_buffer),
    # text: any of these rows matches any text; the name (or the content) picks one
    FormatSpec("json", (".json", ".jsonl"), lambda h: h.text_kind == "json", text=True,
               scanner=_scan_json),
    FormatSpec("yaml", (".yaml", ".yml"), lambda h: h.text_kind == "yaml", text=True,
               scanner=_scan_buffer),
    FormatSpec("python", (".py",), lambda h: h.text_kind == "python", text=True,
               scanner=_scan_python),
    FormatSpec("markdown", (".md", ".markdown"), lambda h: h.text_kind == "markdown",
               text=True, scanner=_scan_buffer),
    FormatSpec("jinja", (".jinja", ".jinja2", ".j2"), lambda h: h.text_kind == "jinja",
               text=True, scanner=_scan_template),
    FormatSpec("text", (".txt",), lambda h: h.text_kind == "text", text=True,
               scanner=_scan_buffer),
    # binary formats without magic numbers: recognised by the shape of their first fields
    FormatSpec("onnx", (".onnx",), lambda h: s.is_onnx(h.data, h.claim), component="weights",
               agrees=frozenset({"binary"})),
    FormatSpec("tensorflow", (".pb", ".index"),
               lambda h: s.is_saved_model(h.data, h.name) or s.is_tf_table(h.data),
               component="weights", agrees=frozenset({"binary"})),
    FormatSpec("flax-msgpack", (".msgpack",), lambda h: s.is_msgpack_map(h.data, h.claim),
               component="weights", agrees=frozenset({"binary"})),
    FormatSpec("binary", sniff=lambda h: True, scanner=_scan_buffer),
    # claim-only rows: what a name promises when several contents may stand behind it
    FormatSpec("pytorch", (".bin", ".pt", ".pth"), unpickles=True, agrees=_TORCHISH,
               scanner=_scan_buffer),
    FormatSpec("checkpoint", (".ckpt",), unpickles=True,
               agrees=_TORCHISH | {"tensorflow"}, scanner=_scan_buffer),
)

_BY_NAME: dict[str, FormatSpec] = {f.name: f for f in REGISTRY}


def spec(name: str) -> FormatSpec:
    """The row for a format name (KeyError for a name the registry does not know)."""
    return _BY_NAME[name]


@cache
def _suffix_table() -> tuple[tuple[str, FormatSpec], ...]:
    # longest first, so ".tar.gz" wins over ".gz"
    pairs = [(sfx, f) for f in REGISTRY for sfx in f.suffixes]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def spec_for_name(name: str) -> FormatSpec | None:
    """The row a file name claims, or None when the name makes no claim."""
    low = name.lower().rsplit("/", 1)[-1]
    if ".data-" in low and "-of-" in low:  # TF checkpoint shards: x.data-00000-of-00001
        return _BY_NAME["tensorflow"]
    for sfx, f in _suffix_table():
        if low.endswith(sfx):
            return f
    return None


def detected_names() -> tuple[str, ...]:
    """Every name detect_format can return, in detection order."""
    return tuple(f.name for f in REGISTRY if f.detected)


def text_names() -> frozenset[str]:
    return frozenset(f.name for f in REGISTRY if f.text)


def weight_names() -> frozenset[str]:
    """Contents that are model weights whatever the file is called."""
    return frozenset(f.name for f in REGISTRY if f.component == "weights")


def unpickling_names() -> frozenset[str]:
    """Contents (and claims) whose usual loader runs pickle."""
    return frozenset(f.name for f in REGISTRY if f.unpickles)


def unpickling_suffixes() -> frozenset[str]:
    """File-name endings whose usual loader runs pickle (torch.load, pickle, joblib)."""
    return frozenset(sfx for f in REGISTRY if f.unpickles for sfx in f.suffixes)


def report_kind(name: str) -> str:
    """The security report's ``kind`` for a format (its JSON name, schema version 1)."""
    f = _BY_NAME[name]
    return f.report_kind or f.name
