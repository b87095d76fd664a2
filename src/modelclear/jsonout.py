"""One way to turn a result into JSON: derived from its fields.

Results are frozen dataclasses or pydantic models, so their JSON form can be derived
rather than written out by hand — a field added to a result then appears in every
JSON document that shows it, and no hand-kept dict forgets it. A dataclass adjusts
the derivation by declaration (:class:`JsonFields`): ``json_omit`` for internal
fields, ``json_names`` where the documented schema names a field differently, and
``json_extra`` for properties computed from the fields. Tuples become lists, enums
their values, nested results their own derived form, pydantic models their
``model_dump``. A few documents keep a hand-shaped ``to_json`` because their
documented schema groups fields (an architecture's ``moe`` and ``mla`` blocks); they
build on :func:`jsonable` for everything inside.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from enum import Enum
from pathlib import PurePath
from typing import Any, ClassVar, Protocol, runtime_checkable


@runtime_checkable
class ToJson(Protocol):
    """A result with its own JSON form (derived by :class:`JsonFields`, or hand-shaped)."""

    def to_json(self) -> Any: ...


class JsonFields:
    """Mixin for dataclasses whose JSON is their fields (see the module docstring)."""

    json_omit: ClassVar[frozenset[str]] = frozenset()
    json_names: ClassVar[Mapping[str, str]] = {}
    json_extra: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]  # mixed into dataclasses
            if f.name not in self.json_omit:
                out[self.json_names.get(f.name, f.name)] = jsonable(getattr(self, f.name))
        for name in self.json_extra:
            out[name] = jsonable(getattr(self, name))
        return out


def jsonable(value: Any) -> Any:
    """The JSON form of any result value."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, ToJson):
        return value.to_json()
    # pydantic is looked up, not imported: without it loaded no value can be a model, and
    # `scan` starts faster without it
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"no JSON form for {type(value).__name__}")
