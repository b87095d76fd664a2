"""Which files of a release are license documents.

Kept apart from reading them so that anything needing the list (the analyzer, the
consistency checks on a base model's release) can have it without importing the
analyzer itself.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from ...release import Release, ReleaseFile

#: files read as license documents (matched on the upper-cased file name)
_LICENSE_FILE = re.compile(
    r"^(?:LICEN[CS]E|COPYING|NOTICE|USE[_\-]?POLICY|MODEL[_\-]LICEN[CS]E|ACCEPTABLE[_\-]USE|"
    r"TERMS[_\-]OF[_\-]USE|PROHIBITED[_\-]USE)|LICEN[CS]E|USE[_\-]POLICY"
)
_TEXT_SUFFIXES = {"", ".txt", ".md", ".markdown", ".rst", ".text", ".html", ".htm"}
#: license files larger than this are not license texts (and would be slow to read)
MAX_LICENSE_BYTES = 2 * 1024 * 1024


#: suffixes of code and data files, never license documents whatever their name
_NOT_TEXT = {
    ".py",
    ".js",
    ".ts",
    ".json",
    ".jsonl",
    ".yaml",
    ".yml",
    ".toml",
    ".sh",
    ".c",
    ".h",
    ".cpp",
    ".cu",
    ".rs",
    ".go",
    ".java",
    ".ipynb",
    ".safetensors",
    ".bin",
    ".gguf",
    ".pt",
    ".pth",
    ".pkl",
    ".onnx",
    ".h5",
    ".msgpack",
    ".model",
    ".tiktoken",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".pdf",
    ".zip",
    ".gz",
    ".csv",
    ".parquet",
    ".arrow",
    ".npy",
    ".npz",
}


def is_license_file(path: str) -> bool:
    """Whether a release path names a license document (LICENSE, LICENSE-MODEL, USE_POLICY.md…)."""
    p = PurePosixPath(path)
    suffix = p.suffix.lower()
    if len(p.parts) > 3 or suffix in _NOT_TEXT:
        return False
    if (
        suffix not in _TEXT_SUFFIXES
        and not p.name.upper().startswith(
            ("LICEN", "COPYING", "NOTICE", "USE_POLICY", "USE-POLICY")
        )
        and "LICEN" not in p.name.upper()
    ):
        return False
    return _LICENSE_FILE.search(p.name.upper()) is not None


def license_files(release: Release) -> list[ReleaseFile]:
    """The release's license documents, shallowest first."""
    found = [f for f in release.files if is_license_file(f.path) and f.size <= MAX_LICENSE_BYTES]
    return sorted(found, key=lambda f: (f.path.count("/"), f.path))
