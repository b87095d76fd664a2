"""Architecture families as data (``data/architectures.toml``).

A parameter formula is only as good as the description of the family it is
applied to: Falcon-180B counted as a Llama loses its MLP, StarCoder counted as a
Llama gets a gated MLP and 48× its KV cache. So each family is described once, in
data, and a config whose ``model_type`` is not described is reported as not
modelled rather than sized by guess.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

_MLP = ("gated", "plain")
_NORM = ("rms", "layer", "layer_nobias")
_BIAS = ("config", "qkv", "all", "none")
_KV = ("config", "multi_query", "falcon", "chatglm")
_QK = ("none", "head", "heads")


@dataclass(frozen=True)
class Family:
    """How one family counts attention, MLP, norms, embeddings and per-token state."""

    key: str
    title: str
    model_types: tuple[str, ...]
    attention: str
    kv_heads: str = "config"
    mlp: str = "gated"
    intermediate: str = "config"
    norm: str = "rms"
    norms_per_layer: int = 2
    qk_norm: str = "none"
    attention_bias: str = "config"
    mlp_bias: bool = False
    bias_key: str | None = None
    bias_covers_mlp: bool = False  # the bias_key also switches the MLP biases
    qkv_bias_key: str | None = None
    positions: str = "rotary"
    tied: bool = False
    embedding_norm: bool = False
    lm_head_bias: bool = False
    moe: str = "none"
    state: str = "none"
    default_context: int | None = None
    nested: tuple[str, ...] = ()  # sub-objects whose keys are read as top-level keys
    defaults: tuple[tuple[str, Any], ...] = ()  # config-class defaults for omitted keys
    rope_scaling_extends: bool = True
    vision: str | None = None

    @property
    def norm_params_per_dim(self) -> int:
        """Parameters per normalised dimension: a weight, plus a bias for LayerNorm."""
        return 2 if self.norm == "layer" else 1

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "attention": self.attention,
                "mlp": self.mlp, "norm": self.norm, "positions": self.positions,
                "moe": self.moe, "state": self.state}


def _check(key: str, field: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"data/architectures.toml: families.{key}.{field} = {value!r}; "
                         f"expected one of {', '.join(allowed)}")
    return str(value)


@cache
def families() -> dict[str, Family]:
    """model_type (lower-cased) → its family, from the data file."""
    text = (resources.files("modelclear") / "data" / "architectures.toml").read_text("utf-8")
    out: dict[str, Family] = {}
    for key, row in tomllib.loads(text)["families"].items():
        fam = Family(
            key=key,
            title=row["title"],
            model_types=tuple(row["model_types"]),
            attention=row["attention"],
            kv_heads=_check(key, "kv_heads", row.get("kv_heads", "config"), _KV),
            mlp=_check(key, "mlp", row.get("mlp", "gated"), _MLP),
            intermediate=row.get("intermediate", "config"),
            norm=_check(key, "norm", row.get("norm", "rms"), _NORM),
            norms_per_layer=int(row.get("norms_per_layer", 2)),
            qk_norm=_check(key, "qk_norm", row.get("qk_norm", "none"), _QK),
            attention_bias=_check(key, "attention_bias", row.get("attention_bias", "config"),
                                  _BIAS),
            mlp_bias=bool(row.get("mlp_bias", False)),
            bias_key=row.get("bias_key"),
            bias_covers_mlp=bool(row.get("bias_covers_mlp", False)),
            qkv_bias_key=row.get("qkv_bias_key"),
            positions=row.get("positions", "rotary"),
            tied=bool(row.get("tied", False)),
            embedding_norm=bool(row.get("embedding_norm", False)),
            lm_head_bias=bool(row.get("lm_head_bias", False)),
            moe=row.get("moe", "none"),
            state=row.get("state", "none"),
            default_context=row.get("default_context"),
            nested=tuple(row.get("nested", ())),
            defaults=tuple(sorted(row.get("defaults", {}).items())),
            rope_scaling_extends=bool(row.get("rope_scaling_extends", True)),
            vision=row.get("vision"),
        )
        for mt in fam.model_types:
            out[mt.lower()] = fam
    return out


def family_of(model_type: str | None) -> Family | None:
    """The described family of a model_type, or None: not modelled."""
    if not model_type:
        return None
    return families().get(model_type.lower())
