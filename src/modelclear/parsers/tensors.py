"""What every weights parser reports about a tensor, whatever the format.

A NamedTuple rather than a frozen dataclass: a DeepSeek-V3 release lists 92k
tensors, and a frozen dataclass costs ~4 µs per instance to build, a tuple ~0.4 µs.
It is just as immutable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from ..findings import Finding


class TensorInfo(NamedTuple):
    name: str
    dtype: str  # safetensors dtype names (BF16, F8_E4M3, I32…) or ggml type names (Q4_K…)
    shape: tuple[int, ...]
    nbytes: int  # bytes the tensor occupies in the file
    file: str  # release-relative path of the file holding it
    offset: int  # absolute byte offset of the data in that file

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass(frozen=True)
class HeaderSummary:
    """What the weights analyzer keeps of one file's headers, whatever the format.

    Each weights parser offers a ``summarize(f)`` returning this, so the format
    registry can name one reader per format and the analyzer needs no per-format code.
    """

    tensors: tuple[TensorInfo, ...]
    #: False when the format's tensors cannot all be listed statically
    tensors_known: bool
    #: bytes of tensor data the headers account for
    nbytes: int
    #: format-specific facts for the JSON report (JSON-safe values)
    metadata: dict[str, Any]
    findings: tuple[Finding, ...] = ()
