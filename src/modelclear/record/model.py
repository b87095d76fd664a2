"""The record document: canonical JSON, its self-hash, and schema validation.

A record must prove, years later, what was cleared. Two things make that possible:
a JSON Schema every record is checked against when written *and* when read (so a
record edited by hand, or written by a buggy version, is refused rather than trusted),
and a sha256 over the record's canonical JSON stored inside it (so any change to any
byte of its content is detected).

Canonical JSON here is: object keys sorted by code point, no insignificant whitespace,
UTF-8 without escaping non-ASCII, integers as integers, floats in Python's shortest
round-trip form (which matches RFC 8785 for every float a record holds: confidences in
[0, 1]). The ``record_hash`` member is left out of the hashed bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..errors import InputError
from ..schemas import VERSIONS

SCHEMA_VERSION = VERSIONS["record"]
CANONICALIZATION = "modelclear-canonical-json-1"
HASH_KEY = "record_hash"


class RecordError(InputError):
    """A record that fails its schema or its self-hash: never used as evidence."""


def _check_numbers(obj: Any, where: str = "$") -> None:
    """NaN and infinities have no JSON form; refuse them instead of writing ``NaN``."""
    if isinstance(obj, float) and not math.isfinite(obj):
        raise RecordError(None, f"record value at {where} is {obj}: not representable in JSON")
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            _check_numbers(v, f"{where}.{k}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            _check_numbers(v, f"{where}[{i}]")


def canonical_json(obj: Any) -> bytes:
    """The bytes the self-hash covers (see module docstring)."""
    _check_numbers(obj)
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def content_hash(data: Mapping[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != HASH_KEY}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def seal(data: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` with its ``record_hash`` set (any previous one replaced)."""
    out = {k: v for k, v in data.items() if k != HASH_KEY}
    out[HASH_KEY] = {
        "algorithm": "sha256",
        "canonicalization": CANONICALIZATION,
        "value": content_hash(out),
    }
    return out


@cache
def schema() -> dict[str, Any]:
    text = (resources.files("modelclear") / "data" / "schemas" / "record-v1.schema.json"
            ).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)  # our packaged schema: always an object
    return loaded


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator, FormatChecker

    Draft202012Validator.check_schema(schema())
    return Draft202012Validator(schema(), format_checker=FormatChecker())


def validate(data: Any, origin: str | None = None) -> None:
    """Raise :class:`RecordError` naming the first schema violation and where it is."""
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version != SCHEMA_VERSION:
        raise RecordError(origin, f"record schema_version {version}: this modelclear reads "
                          f"version {SCHEMA_VERSION} records")
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "$" + "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path
        )
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise RecordError(origin, f"record does not match schema v{SCHEMA_VERSION} at "
                          f"{where}: {err.message[:300]}{more}")


def check_hash(data: Mapping[str, Any], origin: str | None = None) -> None:
    stored = data.get(HASH_KEY, {}).get("value")
    actual = content_hash(data)
    if stored != actual:
        raise RecordError(
            origin, f"record self-hash mismatch: stored {stored}, content hashes to {actual} "
            "(the record was altered after it was written)"
        )


@dataclass(frozen=True)
class Record:
    """A validated, hash-checked record. Construct with :meth:`load` or :meth:`from_json`."""

    data: Mapping[str, Any]

    @classmethod
    def load(cls, data: Any, origin: str | None = None) -> Record:
        """Validate against the schema, then check the self-hash; either failing raises."""
        validate(data, origin)
        check_hash(data, origin)
        return cls(data)

    @classmethod
    def from_json(cls, text: str | bytes, origin: str | None = None) -> Record:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RecordError(origin, f"record is not valid JSON: {exc}") from None
        return cls.load(data, origin)

    # Accessors for the fields commands and verify use most.
    @property
    def id(self) -> str:
        return str(self.data["record_id"])

    @property
    def created_at(self) -> str:
        return str(self.data["created_at"])

    @property
    def model_id(self) -> str | None:
        return _optional_str(self.data["model"]["id"])

    @property
    def revision(self) -> str | None:
        return _optional_str(self.data["model"]["revision"])

    @property
    def record_hash(self) -> str:
        return str(self.data[HASH_KEY]["value"])

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        return {f["path"]: f for f in self.data["files"]}

    @property
    def documents(self) -> list[dict[str, Any]]:
        return list(self.data["documents"])

    def canonical(self) -> bytes:
        return canonical_json(self.data)

    def to_json(self) -> dict[str, Any]:
        copy: dict[str, Any] = json.loads(json.dumps(self.data))  # a record is a JSON object
        return copy


def _optional_str(value: Any) -> str | None:
    """The schema allows null for ids a local release lacks; keep that distinct from ""."""
    return None if value is None else str(value)
