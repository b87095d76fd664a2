"""Every technique of the shared security corpus, with the detection it must keep.

The corpus is generated into a temporary folder by ``../shared/corpus/security/
make_corpus.py`` (skipped when ``../shared`` is absent; ``test_security_fixtures.py``
covers the same techniques with fixtures of our own). No corpus file is ever loaded:
the analyzer only reads bytes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SHARED

from modelclear.analyzers.security import analyze
from modelclear.sources import open_release

GENERATOR = SHARED / "corpus" / "security" / "make_corpus.py"

#: technique → (status, codes that must all be present, callable that must be named)
EXPECTED: dict[str, tuple[str, set[str], str | None]] = {
    # benign: clean, nothing at medium or above
    "plain_pickle_dict": ("clean", set(), None),
    "plain_pickle_list": ("clean", set(), None),
    "plain_pickle_ordereddict": ("clean", set(), None),
    "pickle_numpy_ndarray": ("clean", set(), None),
    "npy_numeric": ("clean", set(), None),
    "npz_numeric": ("clean", set(), None),
    "joblib_dict_ndarray": ("clean", set(), None),
    "torch_zip_state_dict": ("clean", set(), None),
    "torch_zip_state_dict_bin": ("clean", set(), None),
    "torch_legacy_state_dict": ("clean", set(), None),
    "torch_zip_checkpoint_mixed": ("clean", set(), None),
    "torch_zip_full_module": ("clean", {"MC312"}, "torch.nn.modules.linear.Linear"),
    "safetensors": ("clean", set(), None),
    "safetensors_metadata": ("clean", set(), None),
    "gguf_chatml_template": ("clean", set(), None),
    "config_no_auto_map": ("clean", set(), None),
    "tokenizer_config_chatml": ("clean", set(), None),
    "tokenizer_config_tools_template": ("clean", set(), None),
    # malicious pickles
    "reduce_os_system_proto0": ("unsafe", {"MC301"}, "os.system"),
    "reduce_os_system_proto4": ("unsafe", {"MC301"}, "os.system"),
    "reduce_os_system_global_os": ("unsafe", {"MC301"}, "os.system"),
    "reduce_subprocess_popen": ("unsafe", {"MC301"}, "subprocess.Popen"),
    "reduce_subprocess_check_output": ("unsafe", {"MC301"}, "subprocess.check_output"),
    "reduce_builtins_exec": ("unsafe", {"MC300"}, "builtins.exec"),
    "reduce_builtins_eval": ("unsafe", {"MC300"}, "builtins.eval"),
    "py2_module_name___builtin__": ("unsafe", {"MC300"}, "builtins.eval"),
    "INST_opcode": ("unsafe", {"MC300"}, "builtins.exec"),
    "OBJ_opcode": ("unsafe", {"MC300"}, "builtins.exec"),
    "gadget_pip_main": ("unsafe", {"MC301"}, "pip.main"),
    "gadget_runpy_run_code": ("unsafe", {"MC300"}, "runpy._run_code"),
    "gadget_pty_spawn": ("unsafe", {"MC301"}, "pty.spawn"),
    "gadget_asyncio_submodule": (
        "unsafe",
        {"MC301"},
        "asyncio.unix_events._UnixSubprocessTransport._start",
    ),
    "gadget_timeit": ("unsafe", {"MC300"}, "timeit.timeit"),
    "gadget_cprofile_run": ("unsafe", {"MC300"}, "cProfile.run"),
    "gadget_stdlib_private_osx_support": ("unsafe", {"MC301"}, "_osx_support._read_output"),
    "gadget_imaplib_IMAP4_stream": ("unsafe", {"MC301"}, "imaplib.IMAP4_stream"),
    "gadget_multiprocessing_spawnv_passfds": (
        "unsafe",
        {"MC301"},
        "multiprocessing.util.spawnv_passfds",
    ),
    "gadget_ensurepip_run_pip": ("unsafe", {"MC301"}, "ensurepip._run_pip"),
    "gadget_torch_utils_collect_env": ("unsafe", {"MC301"}, "torch.utils.collect_env.run"),
    "gadget_torch_jit_execWrapper": (
        "unsafe",
        {"MC300"},
        "torch.jit.unsupported_tensor_ops.execWrapper",
    ),
    "resolver_pkgutil_resolve_name": ("unsafe", {"MC304", "MC314"}, "os.system"),
    "resolver_importlib_operator_methodcaller": ("unsafe", {"MC304", "MC314"}, "os.system"),
    "resolver_pydoc_locate__operator": ("unsafe", {"MC304", "MC314"}, "os.system"),
    "resolver_operator_attrgetter___import__": ("unsafe", {"MC304", "MC314"}, "os.system"),
    "resolver_importlib_getattr": ("unsafe", {"MC304", "MC314"}, "os.system"),
    "gadget_ctypes_cdll": ("unsafe", {"MC300"}, "ctypes.CDLL"),
    "dotted_name_via_allowlisted_module": ("unsafe", {"MC308"}, "os.system"),
    "allowlisted_module___builtins__": ("unsafe", {"MC304", "MC314"}, "builtins.exec"),
    "stack_global_STRING_operands": ("unsafe", {"MC301"}, "os.system"),
    "stack_global_computed_names": ("unsafe", {"MC306"}, None),
    "memo_PUT_MEMOIZE_confusion": ("unsafe", {"MC301"}, "os.system"),
    "memo_overwrite_same_index": ("unsafe", {"MC301"}, "os.system"),
    "memo_text_PUT_GET": ("unsafe", {"MC301"}, "os.system"),
    "scanner_type_confusion_bytes_operand": ("unsafe", {"MC301", "MC309"}, "os.system"),
    "EXT1_opcode_copyreg_registry": ("unsafe", {"MC301", "MC304"}, "os.system"),
    "nested_pickle_loads": ("unsafe", {"MC300", "MC310", "MC301"}, "os.system"),
    "nested_pickle_zlib_compressed": ("unsafe", {"MC310", "MC301"}, "os.system"),
    "nested_pickle_base64": ("unsafe", {"MC310", "MC301"}, "os.system"),
    "marshal_code_object_FunctionType": ("unsafe", {"MC300"}, "marshal.loads"),
    "broken_pickle_exec_before_error": ("unsafe", {"MC301", "MC309"}, "os.system"),
    "second_pickle_stream_in_file": ("unsafe", {"MC301", "MC313"}, "os.system"),
    "raw_pickle_named_bin": ("unsafe", {"MC301"}, "os.system"),
    "raw_pickle_unusual_extension": ("unsafe", {"MC301"}, "os.system"),
    "raw_pickle_named_npy": ("unsafe", {"MC301", "MC343"}, "os.system"),
    "raw_pickle_named_safetensors": ("unsafe", {"MC301", "MC343"}, "os.system"),
    # malicious containers
    "torch_zip_data_pkl_injected": ("unsafe", {"MC301"}, "os.system"),
    "torch_zip_named_bin": ("unsafe", {"MC301"}, "os.system"),
    "torch_zip_named_ckpt": ("unsafe", {"MC301"}, "os.system"),
    "torch_zip_deflate_compressed_members": ("unsafe", {"MC301"}, "os.system"),
    "zip_crc_mismatch": ("unsafe", {"MC301", "MC320"}, "os.system"),
    "zip_encrypted_decoy_member_before_data_pkl": ("unsafe", {"MC301", "MC320"}, "os.system"),
    "zip_local_header_name_mismatch": ("unsafe", {"MC301", "MC320"}, "os.system"),
    "torch_zip_broken_pickle_exec_before_error": ("unsafe", {"MC301", "MC309"}, "os.system"),
    "torchscript_constants_pkl": ("unsafe", {"MC301", "MC321"}, "os.system"),
    "zip_member_pickle_non_pkl_name": ("unsafe", {"MC301", "MC321"}, "os.system"),
    "torch_legacy_payload_in_object_pickle": ("unsafe", {"MC301"}, "os.system"),
    "torch_legacy_payload_in_magic_pickle": ("unsafe", {"MC301"}, "os.system"),
    "7z_compressed_torch_named_pt": ("unsafe", {"MC301", "MC323"}, "os.system"),
    "7z_archive_with_pickle": ("unsafe", {"MC301", "MC323"}, "os.system"),
    "npy_object_array_reduce": ("unsafe", {"MC301", "MC322"}, "os.system"),
    "npz_object_array_reduce": ("unsafe", {"MC301", "MC322"}, "os.system"),
    "joblib_reduce": ("unsafe", {"MC301"}, "os.system"),
    # remote code and templates
    "config_auto_map_local_py": ("unsafe", {"MC330"}, "modeling_tiny.TinyForCausalLM"),
    "py_file_in_release_os_system": ("unsafe", {"MC333", "MC339"}, "os.system"),
    "py_file_in_release_subprocess": ("unsafe", {"MC333", "MC339"}, "subprocess.run"),
    "config_auto_map_other_repo": ("unsafe", {"MC331"}, None),
    "jinja_ssti_tokenizer_config": ("unsafe", {"MC350"}, "__globals__"),
    "jinja_ssti_obfuscated_attr_concat": ("unsafe", {"MC350", "MC351"}, "__globals__"),
    "gguf_chat_template_ssti": ("unsafe", {"MC350"}, "__globals__"),
    "jinja_ssti_standalone_template_file": ("unsafe", {"MC350"}, "__globals__"),
}
#: every malformed technique must come out as a malformed file with an MC107 message
MALFORMED = {
    "safetensors_header_len_exceeds_file",
    "safetensors_header_len_2^63",
    "safetensors_header_len_2^64-1",
    "safetensors_invalid_json",
    "safetensors_header_not_object",
    "safetensors_overlapping_offsets",
    "safetensors_offsets_past_eof",
    "safetensors_dtype_shape_size_mismatch",
    "safetensors_shape_product_overflow",
    "safetensors_unknown_dtype",
    "safetensors_shorter_than_8_bytes",
    "gguf_truncated_in_header",
    "gguf_truncated_in_metadata",
    "gguf_truncated_tensor_data",
    "gguf_n_kv_2^62",
    "gguf_n_tensors_2^61",
    "gguf_key_length_2^63",
    "gguf_array_len_2^60",
    "torch_zip_truncated",
    "pickle_invalid_utf8_global",
    "png_bytes_named_pt",
}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    if not GENERATOR.is_file():
        pytest.skip("../shared corpus generator not present")
    out = tmp_path_factory.mktemp("security-corpus")
    subprocess.run(
        [sys.executable, str(GENERATOR), str(out)], check=True, capture_output=True, timeout=600
    )
    return out


@pytest.fixture(scope="session")
def scanned(corpus: Path):
    labels = json.loads((corpus / "labels.json").read_text())
    report = analyze(open_release(str(corpus)))
    by_path = {r.path: r for r in report.files}
    by_technique = {}
    for path, label in labels.items():
        by_technique.setdefault(label["technique"], []).append((label, by_path[path]))
    return labels, by_technique


def test_every_generated_technique_has_an_expectation(scanned) -> None:
    labels, _ = scanned
    techniques = {v["technique"] for v in labels.values()}
    missing = techniques - set(EXPECTED) - MALFORMED
    assert not missing, f"new corpus techniques without a detection test: {sorted(missing)}"


@pytest.mark.parametrize("technique", sorted(EXPECTED))
def test_technique_detection(scanned, technique: str) -> None:
    _, by_technique = scanned
    if technique not in by_technique:
        pytest.skip(f"{technique} not generated (optional dependency missing)")
    status, codes, callable_ = EXPECTED[technique]
    for label, report in by_technique[technique]:
        assert report.status == status, (report.path, [f.message for f in report.findings])
        found = {f.code for f in report.findings}
        assert codes <= found, (report.path, sorted(found))
        if label["kind"] == "benign":
            assert all(f.severity.rank < 2 for f in report.findings), report.findings
        if callable_ is not None:
            named = {f.extra.get("callable") for f in report.findings}
            assert callable_ in named, (report.path, named)


@pytest.mark.parametrize("technique", sorted(MALFORMED))
def test_malformed_files_are_malformed_with_a_message(scanned, technique: str) -> None:
    _, by_technique = scanned
    if technique not in by_technique:
        pytest.skip(f"{technique} not generated (optional dependency missing)")
    for _, report in by_technique[technique]:
        assert report.status == "malformed", (report.path, report.findings)
        msgs = [f.message for f in report.findings if f.code == "MC107"]
        assert msgs and all(len(m) > 15 for m in msgs)


def test_bars_on_the_whole_corpus(scanned) -> None:
    labels, by_technique = scanned
    reports = [r for items in by_technique.values() for _, r in items]
    labels_of = {r.path: lab for items in by_technique.values() for lab, r in items}
    mal = [r for r in reports if labels_of[r.path]["kind"] == "malicious"]
    ben = [r for r in reports if labels_of[r.path]["kind"] == "benign"]
    bad = [r for r in reports if labels_of[r.path]["kind"] == "malformed"]
    assert all(r.status == "unsafe" for r in mal)
    assert not [r.path for r in ben if r.status != "clean"]
    assert all(r.status == "malformed" for r in bad)
