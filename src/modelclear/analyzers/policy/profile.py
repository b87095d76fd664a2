"""Deployment profiles: what the team plans to do, as data the checks can decide on.

A profile is a YAML file validated by pydantic. Errors name the file, the key
path and the line, because a profile is written by hand and a typo in
``monthly_active_users`` must not silently mean "unlimited".
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ...errors import InputError, UsageError
from . import regions

Use = Literal[
    "research",
    "internal-tool",
    "customer-product",
    "model-api",
    "distillation",
    "redistribution",
]
Sector = Literal[
    "defense",
    "government",
    "healthcare",
    "finance",
    "critical-infrastructure",
    "education",
    "consumer",
    "general",
]
#: Uses that put the model (or its outputs) in front of people outside the organisation.
THIRD_PARTY_USES = frozenset({"customer-product", "model-api", "redistribution"})
#: Uses that let outside users interact with the model remotely (a product or an API).
SERVING_USES = frozenset({"customer-product", "model-api"})


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Scale(_Strict):
    monthly_active_users: int | None = Field(default=None, ge=0)
    daily_active_users: int | None = Field(default=None, ge=0)
    devices: int | None = Field(default=None, ge=0)
    annual_revenue_usd: int | None = Field(default=None, ge=0)
    monthly_revenue_usd: int | None = Field(default=None, ge=0)


class Regions(_Strict):
    deployment: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    @field_validator("deployment", "users")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for name in value:
            code = regions.normalize(name)
            if code is None:
                raise ValueError(
                    f"unknown region {name!r} (use an ISO 3166 code, EU, or 'worldwide')"
                )
            out.append(code)
        return tuple(out)


class Needs(_Strict):
    fine_tune: bool = False
    distill: bool = False
    modify_architecture: bool = False
    redistribute: bool = False
    train_on_outputs: bool = False


class GpuBudget(_Strict):
    gpu: str  # a name from the sizing GPU catalog, e.g. "H100"
    count: int = Field(default=1, ge=1)
    precision: str | None = None  # bf16 | fp8 | int8 | int4; None = the release's native precision
    #: tokens per sequence; None = the sizing default
    context: int | None = Field(default=None, ge=1)
    concurrency: int = Field(default=1, ge=1)  # sequences that must fit at that context

    @field_validator("gpu")
    @classmethod
    def _known_gpu(cls, value: str) -> str:
        """A typo in the GPU name is a profile error (with its line), not a late failure."""
        from ..sizing import find_gpu

        try:
            return find_gpu(value).key
        except InputError as exc:
            raise ValueError(exc.problem) from None

    @field_validator("precision")
    @classmethod
    def _known_precision(cls, value: str | None) -> str | None:
        if value is None:
            return None
        allowed = ("native", "bf16", "fp8", "int8", "int4")
        if value.lower() not in allowed and not re.fullmatch(
            r"(?:I?Q\d\w*|TQ\d\w*|F16|F32|BF16)", value, flags=re.I
        ):
            raise ValueError(f"unknown precision {value!r}; use {', '.join(allowed)} or a GGUF "
                             "type such as Q4_K")
        return value.lower() if value.lower() in allowed else value


class Rules(_Strict):
    blocked_publisher_countries: tuple[str, ...] = ()
    allowed_licenses: tuple[str, ...] = ()
    osi_approved_only: bool = False
    forbid_pickle: bool = False
    forbid_remote_code: bool = False
    gpu_budget: GpuBudget | None = None
    #: license ids for which the organisation holds a registration or a separate grant
    registered: tuple[str, ...] = ()

    @field_validator("blocked_publisher_countries")
    @classmethod
    def _countries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for name in value:
            code = regions.normalize(name)
            if code is None:
                raise ValueError(f"unknown country {name!r} (use an ISO 3166 code)")
            out.append(code)
        return tuple(out)


class Profile(_Strict):
    name: str
    description: str = ""
    use: tuple[Use, ...] = Field(min_length=1)
    #: None: derived from ``use`` (anything but research is commercial use)
    commercial: bool | None = None
    scale: Scale = Scale()
    regions: Regions = Regions()
    sector: tuple[Sector, ...] = ()
    needs: Needs = Needs()
    rules: Rules = Rules()
    contacts: dict[str, str] = {}

    @property
    def is_commercial(self) -> bool:
        if self.commercial is not None:
            return self.commercial
        return any(u != "research" for u in self.use)

    @property
    def third_party(self) -> bool:
        """Whether people outside the organisation reach the model or its outputs."""
        return bool(THIRD_PARTY_USES.intersection(self.use)) or self.needs.redistribute

    @property
    def distributes(self) -> bool:
        return "redistribution" in self.use or self.needs.redistribute

    @property
    def serves_network(self) -> bool:
        """Whether people outside the organisation use the model over a network (product, API)."""
        return bool(SERVING_USES.intersection(self.use))

    @property
    def trains_on_outputs(self) -> bool:
        return "distillation" in self.use or self.needs.distill or self.needs.train_on_outputs

    @property
    def makes_derivatives(self) -> bool:
        return (
            self.needs.fine_tune
            or self.needs.modify_architecture
            or self.trains_on_outputs
        )

    def all_regions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.regions.deployment + self.regions.users))

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _node_line(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the YAML node at a pydantic error location (deepest found)."""
    node, line = root, None
    for key in loc:
        if node is None:
            break
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(key):
                    line, nxt = k.start_mark.line + 1, v
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if 0 <= key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                node = None
        else:
            node = None
    return line if line is not None else (root.start_mark.line + 1 if root is not None else None)


def parse_profile(text: str, file: str) -> Profile:
    """Validate profile YAML; the first problem becomes an InputError with key path and line."""
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        # only yaml's MarkedYAMLError subclasses carry a mark and a problem
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(file, f"{where}not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise InputError(file, "a profile must be a YAML mapping (key: value lines)")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function")))
        path = ".".join(str(p) for p in loc) or "(top level)"
        line = _node_line(root, loc)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "literal_error":
            msg = f"{msg} (got {err.get('input')!r})"
        more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
        raise InputError(file, f"line {line}: {path}: {msg}{more}") from None


def _builtin_dir() -> Traversable:
    return resources.files("modelclear") / "data" / "profiles"


@cache
def builtin_names() -> tuple[str, ...]:
    return tuple(
        sorted(
            p.name[: -len(".yaml")] for p in _builtin_dir().iterdir() if p.name.endswith(".yaml")
        )
    )


def builtin_text(name: str) -> str:
    if name not in builtin_names():
        raise UsageError(
            f"unknown profile {name!r}; built-in profiles: {', '.join(builtin_names())}, "
            "or give a path to a YAML file"
        )
    return (_builtin_dir() / f"{name}.yaml").read_text(encoding="utf-8")


def resolve_profile(name: str | None, default: str | None, required: bool) -> Profile | None:
    """``--profile``, else the configured default; a usage error when one is required."""
    chosen = name or default
    if chosen is None:
        if required:
            raise UsageError("no profile: pass --profile NAME|FILE or set `profile` in "
                             "modelclear.toml / [tool.modelclear] (built-ins: "
                             "modelclear profile list)")
        return None
    return load_profile(chosen)


def load_profile(name_or_path: str | Path) -> Profile:
    """A built-in profile by name, or a profile YAML file by path."""
    text_name = str(name_or_path)
    path = Path(text_name)
    if text_name in builtin_names() and not path.is_file():
        return parse_profile(builtin_text(text_name), f"<built-in profile {text_name}>")
    if not path.exists():
        builtin_text(text_name)  # raises a UsageError listing the built-ins
    if not path.is_file():
        raise InputError(text_name, "not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(text_name, f"not valid UTF-8 at byte {exc.start}") from None
    except OSError as exc:
        raise InputError(text_name, f"cannot read: {exc.strerror or exc}") from None
    return parse_profile(text, text_name)
