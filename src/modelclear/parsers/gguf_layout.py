"""GGUF tensor data layout: where each tensor's bytes lie, and whether they tile sanely.

Split from :mod:`.gguf` (which reads the header records) because placing tensors is
its own subject: ggml block sizes, alignment, and ranges checked against the file
size before any tensor is reported.
"""

from __future__ import annotations

from ..findings import Finding, finding
from .ggml import ggml_type
from .gguf_cursor import Cursor
from .tensors import TensorInfo

#: one tensor info record: name, ne dims (GGUF order), ggml type id, relative data
#: offset, offset of the record itself
Info = tuple[str, tuple[int, ...], int, int, int]


def align(n: int, a: int) -> int:
    return n + (-n % a)


def place_tensors(
    cur: Cursor, infos: list[Info], data_offset: int, alignment: int
) -> tuple[list[TensorInfo], dict[str, int], list[tuple[int, int, str]], dict[str, int]]:
    """Each tensor's type, size and absolute data range, checked against the file.

    Returns the tensors, name → ggml type id, the (start, end, name) ranges and a
    count of tensors per removed ggml type.
    """
    path = cur.file.path
    tensors: list[TensorInfo] = []
    types: dict[str, int] = {}
    ranges: list[tuple[int, int, str]] = []
    removed_types: dict[str, int] = {}
    for name, dims, type_id, rel, at in infos:
        gt = ggml_type(type_id)
        if gt is None:
            raise cur.fail(f"tensor {name!r} has unknown ggml type {type_id} (offset {at})")
        if gt.removed:
            removed_types[gt.name] = removed_types.get(gt.name, 0) + 1
        numel = 1
        for d in dims:
            if d >= 1 << 62:
                raise cur.fail(f"tensor {name!r} has an absurd dimension {d}")
            numel *= d
        if numel >= 1 << 62:
            raise cur.fail(f"tensor {name!r} has an absurd element count {numel}")
        if dims and dims[0] % gt.block_size:
            raise cur.fail(
                f"tensor {name!r}: row length {dims[0]} is not a multiple of the "
                f"{gt.name} block size {gt.block_size}"
            )
        nbytes = gt.nbytes(numel)
        if rel % alignment:
            raise cur.fail(
                f"tensor {name!r}: data offset {rel} is not a multiple of the alignment {alignment}"
            )
        start = data_offset + rel
        if start + nbytes > cur.size:
            raise cur.fail(
                f"tensor {name!r}: data {start}..{start + nbytes} lies beyond the end of the "
                f"file ({cur.size} bytes)"
            )
        types[name] = type_id
        ranges.append((start, start + nbytes, name))
        tensors.append(
            TensorInfo(
                name=name,
                dtype=gt.name,
                shape=tuple(reversed(dims)),
                nbytes=nbytes,
                file=path,
                offset=start,
            )
        )
    return tensors, types, ranges, removed_types


def check_ranges(
    findings: list[Finding],
    path: str,
    ranges: list[tuple[int, int, str]],
    data_offset: int,
    alignment: int,
) -> int:
    """Report overlapping tensor data (sorted ``ranges``); return the gap bytes between."""
    unaccounted = 0
    reach, reach_name = data_offset, ""  # furthest end seen so far, and whose
    for start, end, name in ranges:
        if start < reach:
            findings.append(
                finding(
                    "MC142",
                    f"data of tensors {reach_name!r} and {name!r} overlap",
                    file=path,
                    offset=start,
                )
            )
        elif reach_name:
            unaccounted += max(0, start - align(reach, alignment))
        else:
            unaccounted += start - data_offset
        if end > reach or not reach_name:
            reach, reach_name = max(end, reach), name
    return unaccounted
