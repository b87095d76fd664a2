"""A single weights file, a GGUF file, or a split GGUF set given by any of its parts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..release import Release, SourceInfo
from .walk import release_file

SPLIT_RE = re.compile(r"^(?P<stem>.+)-(?P<idx>\d{5})-of-(?P<count>\d{5})\.gguf$")


@dataclass(frozen=True)
class SingleFileSource:
    kind: str = "weights-file"

    def matches(self, target: str) -> bool:
        p = Path(target)
        return (p.is_file() or p.is_symlink()) and not p.is_dir()

    def open(self, target: str) -> Release:
        path = Path(target)
        name = path.name
        m = SPLIT_RE.match(name)
        kind = "gguf" if name.lower().endswith(".gguf") else self.kind
        if m:
            count = int(m["count"])
            if count < 1 or int(m["idx"]) < 1 or int(m["idx"]) > count:
                raise InputError(str(path), f"invalid split numbering {m['idx']} of {m['count']}")
            parts = [
                path.with_name(f"{m['stem']}-{i:05d}-of-{count:05d}.gguf")
                for i in range(1, count + 1)
            ]
            missing = [p.name for p in parts if not p.exists()]
            if missing:
                raise InputError(
                    str(path), f"split GGUF set is missing {len(missing)} part(s): "
                    + ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
                )
        else:
            parts = [path]
        root = path.resolve().parent
        files = tuple(release_file(p, p.name) for p in parts)
        return Release(
            source=SourceInfo(kind=kind, location=str(path.resolve()), model_id=_model_id(name)),
            root=root,
            files=files,
        )


def _model_id(name: str) -> str:
    m = SPLIT_RE.match(name)
    stem = m["stem"] if m else name.rsplit(".", 1)[0]
    return stem


SOURCE = SingleFileSource()
