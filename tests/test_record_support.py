"""Shared fixtures for the record, registry, verify and export tests (no tests here).

Releases are written into tmp_path by the tests themselves: real safetensors weights,
a config, a model card with front matter and a LICENSE with numbered clauses.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

LICENSE_TEXT = """\
EXAMPLE OPEN MODEL LICENSE
Version 2.0

1. Grant. The licensor grants you a worldwide, royalty-free, non-exclusive license to
use, copy, modify and distribute the model, including for commercial purposes.

2. Scale. If your products had more than 5 million monthly active users in the
preceding calendar month, you must request a separate license from the licensor.

3. Attribution. You must display the notice "Built with Example" in your product.

4. Governing law. This license is governed by the laws of the State of New York.
"""

CARD_TEXT = """\
---
license: other
license_name: example-open-model-license
license_link: LICENSE
pipeline_tag: text-generation
library_name: transformers
datasets:
- example/pretraining-mix
base_model:
- example/base-7b
model-index:
- name: example-7b
  results:
  - task:
      type: text-generation
    dataset:
      name: MMLU
      type: cais/mmlu
    metrics:
    - type: accuracy
      name: MMLU (5-shot)
      value: 61.5
---
# Example 7B

## Training data

Fine-tuned on the example instruction mix for two epochs.
"""

CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8}


def write_release(root: Path, *, license_text: str = LICENSE_TEXT) -> Path:
    """A small but real release: two safetensors shards, config, card, LICENSE."""
    import numpy as np
    from safetensors.numpy import save_file

    root.mkdir(parents=True, exist_ok=True)
    gen = np.random.default_rng(7)
    save_file({"a.weight": gen.standard_normal((16, 8)).astype(np.float16)},
              str(root / "model-00001-of-00002.safetensors"))
    save_file({"b.weight": gen.standard_normal((16, 8)).astype(np.float16)},
              str(root / "model-00002-of-00002.safetensors"))
    (root / "config.json").write_text(json.dumps(CONFIG))
    (root / "README.md").write_text(CARD_TEXT)
    (root / "LICENSE").write_text(license_text)
    return root


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Hash cache, registry and HF cache all inside tmp_path."""
    monkeypatch.setenv("MODELCLEAR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MODELCLEAR_REGISTRY", str(tmp_path / "registry.sqlite3"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    return tmp_path


@pytest.fixture
def release_dir(isolated: Path) -> Path:
    return write_release(isolated / "example-7b")


def build_record(path: Path, **kwargs):
    """A record without the audit pipeline (fast; the pipeline is tested elsewhere)."""
    from modelclear.record.builder import build
    from modelclear.sources import open_release

    kwargs.setdefault("run_pipeline", False)
    return build(open_release(str(path)), **kwargs)
