"""Keras layer configs, TF SavedModel, nested auto_map and diffusers pipeline indexes."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from modelclear.analyzers.security import analyze
from modelclear.analyzers.security.model import FileReport
from modelclear.sources import open_release

#: a version-0 HDF5 superblock (offsets and lengths 8 bytes) and some padding
SUPER = b"\x89HDF\r\n\x1a\n" + bytes([0, 0, 0, 0, 0, 8, 8, 0]) + b"\x00" * 80


def _scan(tmp_path: Path, files: dict[str, bytes]) -> dict[str, FileReport]:
    for rel, data in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return {r.path: r for r in analyze(open_release(str(tmp_path))).files}


def _codes(r: FileReport) -> set[str]:
    return {f.code for f in r.findings}


def _layers(*layers: dict) -> dict:
    return {"class_name": "Sequential", "config": {"name": "seq", "layers": list(layers)}}


DENSE2 = {"class_name": "Dense", "config": {"name": "d", "units": 2}}
LAMBDA2 = {"class_name": "Lambda", "config": {"name": "l", "function": ["4wEAAAAA", None, None],
                                              "function_type": "lambda", "module": "__main__"}}


def _h5(config: dict | None) -> bytes:
    body = b"" if config is None else (b"model_config\x00\x00" + json.dumps(config).encode())
    return SUPER + body + b"\x00" * 64


def _keras(config: dict) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.5.0"}))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", SUPER)
    return b.getvalue()


def test_legacy_h5_lambda_is_critical(tmp_path: Path) -> None:
    r = _scan(tmp_path, {"model.h5": _h5(_layers(DENSE2, LAMBDA2))})["model.h5"]
    assert r.status == "unsafe" and "MC317" in _codes(r), r.findings


def test_legacy_h5_plain_layers_and_weights_only_are_clean(tmp_path: Path) -> None:
    out = _scan(tmp_path, {"model.h5": _h5(_layers(DENSE2)), "weights.h5": _h5(None)})
    assert out["model.h5"].status == "clean", out["model.h5"].findings
    assert out["weights.h5"].status == "clean"


def test_legacy_h5_unreadable_config_is_unsupported(tmp_path: Path) -> None:
    data = SUPER + b"model_config\x00" + b'{"class_name": "Sequential", "config": {' + b"\x00" * 40
    r = _scan(tmp_path, {"model.h5": data})["model.h5"]
    assert r.status == "unsupported" and "MC341" in _codes(r)


K3_DENSE = {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d"},
            "registered_name": None}


@pytest.mark.parametrize("layer,code", [
    ({"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
      "config": {"name": "l", "function": {"class_name": "__lambda__",
                                           "config": {"code": "4wEAAAA="}}}}, "MC317"),
    ({"module": "builtins", "class_name": "function", "config": "eval",
      "registered_name": "function"}, "MC317"),
    ({"module": "my_layers", "class_name": "Custom", "config": {}, "registered_name": None},
     "MC318"),
    ({"class_name": "Custom", "config": {}, "registered_name": "pkg>Custom"}, "MC318"),
])
def test_keras_v3_code_in_config(tmp_path: Path, layer: dict, code: str) -> None:
    cfg = {"module": "keras", "class_name": "Sequential",
           "config": {"layers": [K3_DENSE, layer]}, "registered_name": None}
    r = _scan(tmp_path, {"model.keras": _keras(cfg)})["model.keras"]
    assert r.status == "unsafe" and code in _codes(r), r.findings


def test_keras_v3_plain_and_misnamed_zip(tmp_path: Path) -> None:
    cfg = {"module": "keras", "class_name": "Sequential", "config": {"layers": [K3_DENSE]},
           "registered_name": None}
    bad = {"module": "keras", "class_name": "Sequential", "registered_name": None,
           "config": {"layers": [{"module": "keras.layers", "class_name": "Lambda",
                                  "config": {}}]}}
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:  # no metadata.json: sniffed as a plain zip
        z.writestr("config.json", json.dumps(bad))
    out = _scan(tmp_path, {"ok.keras": _keras(cfg), "odd.keras": b.getvalue()})
    assert out["ok.keras"].status == "clean", out["ok.keras"].findings
    assert out["odd.keras"].status == "unsafe" and "MC317" in _codes(out["odd.keras"])


def test_saved_model_is_unsupported(tmp_path: Path) -> None:
    r = _scan(tmp_path, {"saved_model.pb": b"\x08\x01\x12\x05\x0a\x03abc"})["saved_model.pb"]
    assert r.status == "unsupported" and "MC341" in _codes(r)


@pytest.mark.parametrize("name,cfg", [
    ("tokenizer_config.json", {"tokenizer_class": "X",
                               "auto_map": {"AutoTokenizer": ["tok.XTok", None]}}),
    ("preprocessor_config.json", {"auto_map": {"AutoImageProcessor": "other/r--proc.P"}}),
    ("config.json", {"model_type": "llava", "text_config": {
        "auto_map": {"AutoModel": "other/r--modeling.M"}}}),
    ("processor_config.json", {"processor": [{"auto_map": {"AutoProcessor": "a/b--p.P"}}]}),
])
def test_auto_map_at_any_depth(tmp_path: Path, name: str, cfg: dict) -> None:
    r = _scan(tmp_path, {name: json.dumps(cfg).encode()})[name]
    # code in another repository: high; a local file that is absent: medium (warning)
    assert r.status in ("unsafe", "warning") and _codes(r) & {"MC331", "MC332"}, r.findings


def test_diffusers_custom_component(tmp_path: Path) -> None:
    index = {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.30.0",
             "unet": ["diffusers", "UNet2DConditionModel"], "scheduler": ["diffusers", "PNDM"],
             "text_encoder": ["transformers", "CLIPTextModel"], "safety_checker": [None, None]}
    unet = {"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.30.0",
            "block_out_channels": [320, 640]}
    out = _scan(tmp_path, {"model_index.json": json.dumps(index).encode(),
                           "unet/config.json": json.dumps(unet).encode()})
    assert out["model_index.json"].status == "clean"
    assert out["unet/config.json"].status == "clean"
    for extra in ({"unet": ["my_unet", "MyUNet"]}, {"custom_pipeline": "my_pipe"},
                  {"_class_name": ["pipeline", "MyPipeline"]}):
        d = tmp_path / str(len(list(tmp_path.iterdir())))
        r = _scan(d, {"model_index.json": json.dumps(index | extra).encode()})["model_index.json"]
        assert r.status == "unsafe" and "MC340" in _codes(r), (extra, r.findings)
