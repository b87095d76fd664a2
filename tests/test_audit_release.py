"""Release-level checks through the pipeline: pickle weights, remote code, publisher origin.

The pickle written here calls ``os.system`` if unpickled; it is only ever read by
modelclear's own non-executing scanner, never loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import make_hf_cache

from modelclear.analyzers.policy import Status, load_profile
from modelclear.analyzers.policy.profile import GpuBudget, Profile
from modelclear.pipeline import run
from modelclear.sources import open_release

#: protocol-2 pickle: GLOBAL os.system, arg tuple ("echo",), REDUCE, STOP
EVIL_PICKLE = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00echoq\x01\x85q\x02Rq\x03."
CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
          "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
          "num_key_value_heads": 2, "vocab_size": 256, "max_position_embeddings": 2048,
          "torch_dtype": "bfloat16"}
OWN_LICENSE = """TEST MODEL LICENSE

1. Grant. The publisher grants you a worldwide, royalty-free license to use, copy,
modify and distribute the model, including for commercial purposes.

2. Notice. You must keep this license text with every copy of the model.
"""


def _release(root: Path, **extra: bytes) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps(CONFIG))
    (root / "LICENSE").write_text(OWN_LICENSE)
    for name, data in extra.items():
        (root / name.replace("__", ".")).write_bytes(data)
    return root


def _rules(name: str, **rules) -> Profile:
    p = load_profile(name)
    return p.model_copy(update={"rules": p.rules.model_copy(update=rules)})


def test_pickle_weights_forbidden_by_profile(tmp_path: Path) -> None:
    root = _release(tmp_path / "r", pytorch_model__bin=EVIL_PICKLE)
    res = run(open_release(str(root)), load_profile("customer-saas"))
    c = res.policy.check("serialization")
    assert c.status is Status.BLOCKED and c.code == "MC513"
    assert any(e.file == "pytorch_model.bin" for e in c.evidence)
    assert res.verdict is Status.BLOCKED


def test_malicious_pickle_blocks_even_when_pickle_allowed(tmp_path: Path) -> None:
    root = _release(tmp_path / "r", pytorch_model__bin=EVIL_PICKLE)
    res = run(open_release(str(root)), load_profile("prototype"))
    scan = res.policy.check("security-scan")
    if res.analyzers["security"] == "ok":
        assert scan.status is Status.BLOCKED and scan.code == "MC524"
        assert scan.evidence[0].file == "pytorch_model.bin"
    else:
        assert scan.status is Status.REVIEW and scan.code == "MC521"
    assert res.verdict is not Status.CLEAR


def test_remote_code(tmp_path: Path) -> None:
    root = _release(tmp_path / "r")
    cfg = dict(CONFIG, auto_map={"AutoModelForCausalLM": "modeling_test.TestForCausalLM"})
    (root / "config.json").write_text(json.dumps(cfg))
    (root / "modeling_test.py").write_text("import torch\n\nclass TestForCausalLM:\n    pass\n")
    blocked = run(open_release(str(root)), load_profile("customer-saas")).policy
    assert blocked.check("remote-code").status is Status.BLOCKED
    assert "modeling_test.TestForCausalLM" in blocked.check("remote-code").evidence[0].quote
    allowed = run(open_release(str(root)), load_profile("prototype")).policy
    # the profile allows remote code and the code the loader imports does nothing flagged
    assert allowed.check("remote-code").status is Status.CLEAR


def test_publisher_origin_from_hub_id(hf_hub: Path) -> None:
    files = {"config.json": json.dumps(CONFIG).encode(), "LICENSE": OWN_LICENSE.encode()}
    make_hf_cache(hf_hub, "Qwen/Qwen-Test", files, "a" * 40)
    release = open_release("Qwen/Qwen-Test")
    res = run(release, _rules("internal-tool", blocked_publisher_countries=("CN",)))
    c = res.policy.check("publisher-origin")
    assert c.status is Status.BLOCKED and "China" in c.reason
    res = run(release, _rules("internal-tool", blocked_publisher_countries=("RU",)))
    assert res.policy.check("publisher-origin").status is Status.CLEAR
    data = res.to_json()
    assert data["source"]["model_id"] == "Qwen/Qwen-Test"


def test_gpu_budget_fit(tmp_path: Path) -> None:
    root = _release(tmp_path / "r")
    res = run(open_release(str(root)), load_profile("regulated-onprem"))
    hw = res.policy.check("hardware")
    if res.analyzers.get("sizing") == "ok":
        assert hw.status is Status.CLEAR and "8 × H100" in hw.reason
        assert hw.evidence[0].source == "sizing" and "usable" in (hw.evidence[0].note or "")
    else:
        assert hw.code == "MC521"


def test_no_license_file_blocked(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    (root / "config.json").write_text(json.dumps(CONFIG))
    res = run(open_release(str(root)), load_profile("prototype"))
    c = res.policy.check("license-identified")
    if res.analyzers["license"] == "ok":
        assert c.status is Status.BLOCKED and c.code == "MC520"
    else:
        assert c.code == "MC521"


def test_gpu_budget_too_small_is_blocked(tmp_path: Path) -> None:
    root = tmp_path / "big"
    root.mkdir()
    big = dict(CONFIG, hidden_size=8192, intermediate_size=28672, num_hidden_layers=80,
               num_attention_heads=64, num_key_value_heads=8, vocab_size=128256,
               max_position_embeddings=131072)
    (root / "config.json").write_text(json.dumps(big))  # a 70B-class config, no weights
    (root / "LICENSE").write_text(OWN_LICENSE)
    small = _rules("regulated-onprem", gpu_budget=GpuBudget(gpu="L4", count=1))
    res = run(open_release(str(root)), small)
    hw = res.policy.check("hardware")
    if res.analyzers.get("sizing") != "ok":
        assert hw.code == "MC521"
        return
    assert hw.status is Status.BLOCKED and "1 × L4" in hw.reason
    enough = _rules("regulated-onprem", gpu_budget=GpuBudget(gpu="H100", count=8))
    assert run(open_release(str(root)), enough).policy.check("hardware").status is \
        Status.CLEAR
