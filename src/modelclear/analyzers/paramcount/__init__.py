"""Parameter entries and counts, by config formula or from tensor headers.

The analyzer that picks between them for a release is ``analyzers.params``.
"""

from .from_config import count_from_config, entries_from_config
from .from_tensors import count_from_tensors, entries_from_tensors
from .model import (
    BIAS,
    DTYPE_BYTES,
    EMBED,
    KINDS,
    LINEAR,
    LM_HEAD,
    NORM,
    ROUTER,
    TORCH_DTYPES,
    ParamEntry,
    ParameterCount,
    dtype_name,
)
from .names import is_mtp, is_side_tensor, layer_of
from .summary import summarize

__all__ = [
    "BIAS",
    "DTYPE_BYTES",
    "EMBED",
    "KINDS",
    "LINEAR",
    "LM_HEAD",
    "NORM",
    "ROUTER",
    "TORCH_DTYPES",
    "ParamEntry",
    "ParameterCount",
    "count_from_config",
    "count_from_tensors",
    "dtype_name",
    "entries_from_config",
    "entries_from_tensors",
    "is_mtp",
    "is_side_tensor",
    "layer_of",
    "summarize",
]
