"""Keras models: the layer configuration that ``load_model`` turns into objects.

A Keras model carries code in its configuration, not in a pickle: a ``Lambda`` layer
holds marshalled bytecode (Keras 2, legacy HDF5 ``model_config``) or a ``__lambda__``
object (Keras 3 ``.keras``), and Keras 3 resolves ``{"module": ..., "class_name": ...}``
objects by importing the module (``builtins``/``eval`` included). We read the config the
loader reads — ``config.json`` inside a ``.keras`` zip, the ``model_config`` attribute of
an HDF5 file — and judge every object in it. Without an HDF5 library the attribute is
found by a bounded byte search for its JSON (HDF5 stores attribute strings
uncompressed); a file that names ``model_config`` but whose JSON we cannot decode is
``unsupported`` (MC341, high), never clean.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...findings import Finding, Severity, finding
from ...release import Release, ReleaseFile
from .files import examine_buffer
from .outcome import Outcome, mapped
from .ziparchive import ZipError, open_zip

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
#: a Keras config JSON is not bigger than this
MAX_CONFIG = 64 << 20
#: objects walked in one config (a model has thousands of layers at most)
MAX_NODES = 2_000_000
#: modules Keras itself deserializes from
_KERAS_MODULES = ("keras", "tf_keras", "tensorflow.keras", "keras_hub", "keras_nlp", "keras_cv")
_CODE_CLASSES = frozenset({"Lambda", "__lambda__", "function", "TFOpLambda", "SlicingOpLambda"})
#: starts of a JSON object a Keras config can begin with (json.dumps writes class_name first)
_CONFIG_START = re.compile(rb'\{\s*"(?:class_name|module|config|registered_name)"\s*:')


def judge_config(obj: Any, *, file: str, where: str, member: str | None = None) -> list[Finding]:
    """MC317/MC318 for every object of a Keras config that runs or imports code."""
    out: list[Finding] = []
    extra: dict[str, Any] = {"member": member} if member else {}
    todo, seen = [obj], 0
    while todo and seen < MAX_NODES:
        node = todo.pop()
        seen += 1
        if isinstance(node, list):
            todo.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        todo.extend(node.values())
        cls = node.get("class_name")
        module = node.get("module")
        reg = node.get("registered_name")
        cfg = node.get("config") if isinstance(node.get("config"), dict) else {}
        name = cfg.get("name") if isinstance(cfg, dict) else None
        label = f"{cls}" + (f" {name!r}" if isinstance(name, str) else "")
        # Keras 2 keeps "function_type" inside the Lambda's config: the layer is reported
        if cls in _CODE_CLASSES or (cls is not None and node.get("function_type") == "lambda"):
            what = f"{module}.{cfg}" if cls == "function" and isinstance(module, str) else label
            out.append(finding(
                "MC317", f"{where}: {what[:160]} — load_model runs Python code from the config",
                file=file, quote=json.dumps(node)[:200], callable=f"keras.{cls}", **extra,
            ))
        elif cls is None:
            continue  # a plain config dict (Keras 2 keeps a Lambda's "module" in there)
        elif isinstance(module, str) and not module.startswith(_KERAS_MODULES):
            sev = Severity.CRITICAL if module.split(".")[0] in ("builtins", "os", "subprocess",
                                                                "posix", "nt") else None
            out.append(finding(
                "MC318", f"{where}: {label} comes from module {module!r}, which load_model "
                "imports", file=file, quote=json.dumps(node)[:200], severity=sev,
                callable=f"{module}.{cls}", **extra,
            ))
        elif isinstance(reg, str) and reg and not isinstance(module, str):
            out.append(finding(
                "MC318", f"{where}: {label} is the registered custom object {reg!r}",
                file=file, quote=reg, callable=reg, **extra,
            ))
    return out


def scan_keras(f: ReleaseFile, release: Release | None = None) -> Outcome:
    """``.keras`` zips and legacy HDF5 models (``.h5``/``.hdf5``)."""
    with mapped(f) as buf:
        head = bytes(buf[:8])
        if head[:4] == b"PK\x03\x04" or head[:4] == b"PK\x05\x06":
            return _keras_zip(buf, f.path, f.name.lower())
        return _hdf5(buf, f.path)


def _keras_zip(buf: Any, path: str, name: str) -> Outcome:
    out = examine_buffer(buf, path=path, name=name)  # pickles and nested containers
    out.kind = "keras"
    try:
        za = open_zip(buf)
    except ZipError:
        return out  # examine_buffer already said malformed
    cfgs = [m for m in za.members if m.name.rsplit("/", 1)[-1] == "config.json"]
    if not cfgs:
        out.malformed.append(".keras archive without config.json")
        return out
    for m in cfgs:
        try:
            raw = za.read(m, MAX_CONFIG)
            obj = json.loads(raw.decode("utf-8", "replace"))
        except (ZipError, ValueError, RecursionError) as exc:
            out.not_examined(
                f"{m.name}: {exc}",
                f"Keras config {m.name} could not be read ({str(exc)[:120]}); the "
                "layers load_model would build were not examined",
                file=path,
                member=m.name,
            )
            continue
        out.findings += judge_config(obj, file=path, where=m.name, member=m.name)
    return out


def _superblock_ok(buf: Any) -> bool:
    off = 0  # HDF5 allows a user block: the signature sits at 0, 512, 1024, 2048, ...
    while off + 16 <= min(len(buf), 1 << 20) and bytes(buf[off:off + 8]) != HDF5_MAGIC:
        off = 512 if off == 0 else off * 2
    at = bytes(buf[off:off + 16])
    if len(at) < 16 or at[:8] != HDF5_MAGIC or at[8] > 3:
        return False
    width = at[13] if at[8] < 2 else at[9]
    return width in (2, 4, 8)


def _decode_at(buf: Any, start: int) -> Any:
    """The JSON value starting at ``start``, reading a growing window (never past MAX_CONFIG)."""
    for window in (1 << 16, 1 << 20, MAX_CONFIG):
        chunk = bytes(buf[start:start + window])
        try:
            return json.JSONDecoder().raw_decode(chunk.decode("utf-8", "replace"))[0]
        except (ValueError, RecursionError):
            if start + window >= len(buf):
                return None
    return None


def _hdf5(buf: Any, path: str) -> Outcome:
    out = Outcome(kind="keras")
    if not _superblock_ok(buf):
        out.malformed.append("HDF5 superblock is not valid (truncated or corrupt)")
        return out
    configs: list[tuple[int, Any]] = []
    failed = 0
    for m in _CONFIG_START.finditer(buf):
        obj = _decode_at(buf, m.start())
        if isinstance(obj, dict):
            configs.append((m.start(), obj))
        else:
            failed += 1
        if len(configs) + failed > 256:
            break
    named = buf.find(b"model_config") >= 0
    if named and not configs:
        out.not_examined(
            "HDF5 model_config attribute could not be decoded",
            "legacy Keras HDF5 file names a model_config but its JSON could not be "
            "read; the layers load_model would build were not examined",
            file=path,
        )
        return out
    seen: set[tuple[str, str | None]] = set()
    for off, obj in configs:  # nested layer objects are found again on their own: once each
        for fd in judge_config(obj, file=path, where=f"HDF5 attribute JSON at {off}"):
            if (fd.code, fd.quote) not in seen:
                seen.add((fd.code, fd.quote))
                fd.extra["offset_hint"] = off
                out.findings.append(fd)
    return out
