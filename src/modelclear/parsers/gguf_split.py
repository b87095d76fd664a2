"""Split GGUF sets (``*-00001-of-0000N.gguf``): every part parsed, then checked as one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InputError
from ..findings import Finding, finding
from ..release import ReleaseFile
from .gguf import GGUFFile, read_gguf
from .tensors import TensorInfo


@dataclass(frozen=True)
class GGUFSplit:
    """A split GGUF set (``*-00001-of-0000N.gguf``) validated as one model."""

    parts: tuple[GGUFFile, ...]  # ordered by split.no
    findings: tuple[Finding, ...] = ()

    @property
    def first(self) -> GGUFFile:
        return self.parts[0]

    @property
    def tensors(self) -> tuple[TensorInfo, ...]:
        return tuple(t for p in self.parts for t in p.tensors)


def read_gguf_split(files: Sequence[ReleaseFile]) -> GGUFSplit:
    """Parse every part and check they form one complete, consistent split set."""
    if not files:
        raise InputError(None, "empty split GGUF set")
    parsed = [read_gguf(f) for f in files]
    first_path = files[0].path
    count = len(parsed)
    by_no: dict[int, GGUFFile] = {}
    for g in parsed:
        sp = g.split
        if sp is None:
            if count == 1:
                return GGUFSplit(parts=(g,), findings=())
            raise InputError(g.file, "part of a split set but has no split.no / split.count")
        if sp.count != count:
            raise InputError(g.file, f"split.count is {sp.count} but the set has {count} part(s)")
        if not 0 <= sp.no < count:
            raise InputError(g.file, f"split.no {sp.no} is outside 0..{count - 1}")
        if sp.no in by_no:
            raise InputError(g.file, f"split.no {sp.no} also used by {by_no[sp.no].file}")
        by_no[sp.no] = g
    parts = tuple(by_no[i] for i in range(count))
    findings: list[Finding] = []
    names: dict[str, str] = {}
    for p in parts:
        for t in p.tensors:
            if t.name in names:
                raise InputError(p.file, f"tensor {t.name!r} also appears in {names[t.name]}")
            names[t.name] = p.file
    declared = parts[0].split.tensors_count if parts[0].split else None
    if declared is not None and declared != len(names):
        findings.append(
            finding(
                "MC145",
                f"split.tensors.count says {declared} tensors but the parts hold {len(names)}",
                file=parts[0].file,
                offset=parts[0].value_offset("split.tensors.count"),
            )
        )
    for p in parts[1:]:
        tc = p.split.tensors_count if p.split else None
        if declared is not None and tc is not None and tc != declared:
            findings.append(
                finding(
                    "MC145",
                    f"split.tensors.count is {tc} here but {declared} in {first_path}",
                    file=p.file,
                    offset=p.value_offset("split.tensors.count"),
                )
            )
    return GGUFSplit(parts=parts, findings=tuple(findings))
