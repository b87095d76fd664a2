"""What a file really is, from its first bytes, and what its name claims it is.

Loaders pick a code path by extension (``.bin`` → ``torch.load``), so a pickle
named ``model.safetensors`` or a zip named ``.json`` matters: the inventory
compares :func:`detect_format` (content) with :func:`extension_format` (name)
and reports disagreement. Detection looks only at a prefix of the file (the
caller passes ~64 KiB) so it costs one small read per file.

Formats that carry a magic number are identified by it. Protobuf (ONNX,
TensorFlow) and msgpack (Flax) have none, so they are recognised by the shape
of their first fields, helped by the name; when that is not conclusive the
content is ``binary``, which agrees with those extensions rather than raising a
false alarm. Text formats (json, yaml, python, markdown, jinja) are told apart
by name once the bytes are known to be text: a YAML file named ``.md`` is not a
loader hazard.
"""

from __future__ import annotations

from .formats import REGISTRY, detected_names, spec, spec_for_name, text_names
from .sniff import LFS_POINTER, TORCH_LEGACY_MAGIC, Head, lfs_pointer_error

__all__ = [
    "FORMATS", "LFS_POINTER", "TEXT_FORMATS", "TORCH_LEGACY_MAGIC", "detect_format",
    "extension_format", "formats_agree", "lfs_pointer_error",
]

#: Formats detect_format can return (the registry's content rows, in detection order).
FORMATS: tuple[str, ...] = detected_names()

TEXT_FORMATS = text_names()


def extension_format(name: str) -> str | None:
    """The format a file's name claims, or None when the name makes no claim."""
    claimed = spec_for_name(name)
    return None if claimed is None else claimed.name


def formats_agree(content: str, ext: str | None) -> bool:
    """Whether a loader choosing by the claimed format handles the actual content."""
    if ext is None or content == ext or content == "empty":
        return True
    if ext in TEXT_FORMATS:
        return content in TEXT_FORMATS
    return content in spec(ext).agrees


def detect_format(head: bytes, name: str) -> str:
    """The format of a file from its first bytes (pass ~64 KiB) and, for hints, its name."""
    claimed = spec_for_name(name)
    h = Head(head, name, None if claimed is None else claimed.name,
             claimed is not None and claimed.text)
    for f in REGISTRY:
        if f.sniff is not None and f.sniff(h):
            return f.name
    return "binary"  # pragma: no cover - the binary row matches everything
