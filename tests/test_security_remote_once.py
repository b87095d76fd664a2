"""Remote code is judged once, by what can run (issue 13, "Remote code judged once").

One finding per auto_map entry, graded by the code it imports (present) or saying the
code would be downloaded (absent); the remote-code policy check (MC514) alone turns that
and the profile's forbid_remote_code into CLEAR/REVIEW/BLOCKED, and the security-scan
check (MC524) leaves remote code out. Scripts no loader imports (a code repository's
demo) are reported apart, capped at low, and never block the model.
"""

from __future__ import annotations

import json
from pathlib import Path

from modelclear.analyzers.policy import Status, load_profile
from modelclear.analyzers.security import analyze
from modelclear.pipeline import run
from modelclear.sources import open_release

CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
          "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
          "num_key_value_heads": 2, "vocab_size": 256, "torch_dtype": "bfloat16"}
CLEAN_PY = "import torch\n\nclass M:\n    pass\n"
EVIL_PY = "import os\nos.system('true')\n\nclass M:\n    pass\n"


def _release(root: Path, auto_map: dict[str, str] | None, **py: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    cfg = dict(CONFIG, **({"auto_map": auto_map} if auto_map else {}))
    (root / "config.json").write_text(json.dumps(cfg))
    for name, text in py.items():
        (root / f"{name}.py").write_text(text)
    return root


def _checks(root: Path, profile: str) -> tuple[Status, Status]:
    pol = run(open_release(str(root)), load_profile(profile)).policy
    return pol.check("remote-code").status, pol.check("security-scan").status


def test_one_finding_per_entry_graded_by_the_code(tmp_path: Path) -> None:
    root = _release(tmp_path / "r", {"AutoModel": "modeling_a.M", "AutoConfig": "conf_b.M",
                                     "AutoTokenizer": "tok_c.M"},
                    modeling_a=EVIL_PY, conf_b=CLEAN_PY)
    rep = analyze(open_release(str(root)))
    cfg = next(r for r in rep.files if r.path == "config.json")
    by_ref = {f.extra.get("callable"): f for f in cfg.findings
              if f.code in ("MC330", "MC331", "MC332")}
    assert set(by_ref) == {"modeling_a.M", "conf_b.M", "tok_c.M"}  # one each
    assert by_ref["modeling_a.M"].code == "MC330"
    assert by_ref["modeling_a.M"].severity.value == "high"  # os.system at import time
    assert by_ref["conf_b.M"].severity.value == "info"  # clean code
    assert by_ref["tok_c.M"].code == "MC332"
    assert "download" in by_ref["tok_c.M"].message


def test_absent_code_is_review_unless_the_profile_forbids(tmp_path: Path) -> None:
    root = _release(tmp_path / "r", {"AutoModel": "modeling_x.M"})
    assert _checks(root, "prototype") == (Status.REVIEW, Status.CLEAR)
    assert _checks(root, "customer-saas") == (Status.BLOCKED, Status.CLEAR)


def test_present_clean_code_follows_the_profile(tmp_path: Path) -> None:
    root = _release(tmp_path / "r", {"AutoModel": "modeling_x.M"}, modeling_x=CLEAN_PY)
    assert _checks(root, "prototype") == (Status.CLEAR, Status.CLEAR)
    assert _checks(root, "customer-saas") == (Status.BLOCKED, Status.CLEAR)


def test_present_unsafe_code_blocks_once(tmp_path: Path) -> None:
    root = _release(tmp_path / "r", {"AutoModel": "modeling_x.M"}, modeling_x=EVIL_PY)
    # blocked by remote-code even where remote code is allowed; not counted again
    assert _checks(root, "prototype") == (Status.BLOCKED, Status.CLEAR)


def test_demo_script_is_reported_apart_and_never_blocks(tmp_path: Path) -> None:
    root = _release(tmp_path / "r", {"AutoModel": "modeling_x.M"}, modeling_x=CLEAN_PY,
                    cli_demo=EVIL_PY)
    rep = {r.path: r for r in analyze(open_release(str(root))).files}
    demo = rep["cli_demo.py"]
    assert demo.status == "clean" and any(f.code == "MC346" for f in demo.findings)
    assert all(f.severity.rank <= 1 for f in demo.findings)
    assert any(f.code == "MC333" for f in demo.findings)  # still reported
    assert _checks(root, "prototype") == (Status.CLEAR, Status.CLEAR)


def test_a_lone_python_file_keeps_its_severity(tmp_path: Path) -> None:
    (tmp_path / "tool.py").write_text(EVIL_PY)
    r = analyze(open_release(str(tmp_path))).files[0]
    assert r.status == "unsafe"
