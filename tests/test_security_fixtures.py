"""Security analysis on fixtures we build ourselves (no ../shared needed).

Malicious samples are assembled opcode by opcode here; nothing is ever unpickled,
loaded or rendered. Payload commands are harmless (``true``) anyway.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import pickle
import struct
import tarfile
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path

import pytest

from modelclear.analyzers.security import analyze
from modelclear.analyzers.security.allowlist import judge
from modelclear.analyzers.security.model import FileReport
from modelclear.sources import open_release

SHELL = "true"
PY = "__import__('os').system('true')"


# -- a tiny assembler --------------------------------------------------------------------


def s(text: str) -> bytes:
    b = text.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def g(mod: str, name: str) -> bytes:
    return b"c" + mod.encode() + b"\n" + name.encode() + b"\n"


def sg(mod: str, name: str) -> bytes:
    return s(mod) + s(name) + b"\x93"


def call(func: bytes, *args: bytes) -> bytes:
    return func + b"(" + b"".join(args) + b"tR"


def by(b: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(b)) + b


def wrap(body: bytes, proto: int = 2) -> bytes:
    return b"\x80" + bytes([proto]) + body + b"."


def system_call() -> bytes:
    return wrap(call(g("os", "system"), s(SHELL)))


def scan(tmp_path: Path, files: dict[str, bytes]) -> dict[str, FileReport]:
    for rel, data in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    report = analyze(open_release(str(tmp_path)))
    return {r.path: r for r in report.files}


def one(tmp_path: Path, name: str, data: bytes) -> FileReport:
    return scan(tmp_path, {name: data})[name]


def codes(r: FileReport) -> set[str]:
    return {f.code for f in r.findings}


def callables(r: FileReport) -> set[str]:
    return {f.extra.get("callable") for f in r.findings} - {None}


# -- benign ------------------------------------------------------------------------------


@pytest.mark.parametrize("proto", range(6))
def test_plain_pickles_are_clean(tmp_path: Path, proto: int) -> None:
    obj = {"a": [1, 2.5, "x"], "b": (None, True), "c": b"bytes", "d": {1, 2}}
    r = one(tmp_path, "state.pkl", pickle.dumps(obj, protocol=proto))
    assert r.status == "clean", r.findings
    assert r.pickle and codes(r) == {"MC311"}


def test_ordereddict_and_numpy_are_clean(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    files = {
        "od.pkl": pickle.dumps(OrderedDict(w=[0.1], b=[0.0]), protocol=2),
        "arr.pkl": pickle.dumps({"a": np.arange(6).reshape(2, 3), "s": np.float64(1.5)}, 4),
    }
    buf = io.BytesIO()
    np.save(buf, np.ones((3, 3), dtype="float16"))
    files["plain.npy"] = buf.getvalue()
    buf = io.BytesIO()
    np.savez_compressed(buf, a=np.arange(10), b=np.zeros(4))
    files["plain.npz"] = buf.getvalue()
    out = scan(tmp_path, files)
    assert all(r.status == "clean" for r in out.values()), {k: v.findings for k, v in out.items()}
    assert out["plain.npy"].kind == "npy" and not out["plain.npy"].pickle


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_torch_checkpoints_are_clean(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    files = {}
    for name, obj, legacy in (
        ("model.pt", net.state_dict(), False),
        ("pytorch_model.bin", net.state_dict(), False),
        ("legacy.pth", net.state_dict(), True),
        (
            "train.ckpt",
            {
                "sd": net.state_dict(),
                "step": 3,
                "bf": torch.ones(2, dtype=torch.bfloat16),
                "q": torch.quantize_per_tensor(torch.ones(4), 0.1, 0, torch.qint8),
            },
            False,
        ),
        ("full.pt", net, False),
    ):
        buf = io.BytesIO()
        torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
        files[name] = buf.getvalue()
    out = scan(tmp_path, files)
    for name, r in out.items():
        assert r.status == "clean", (name, r.findings)
        assert r.pickle
    assert out["legacy.pth"].kind == "torch-legacy"
    assert out["model.pt"].kind == "torch-zip"
    assert "torch._utils._rebuild_tensor_v2" in out["model.pt"].imports
    # a whole nn.Module needs full unpickling: reported, but not unsafe
    assert "MC312" in codes(out["full.pt"])
    assert "torch.nn.modules.linear.Linear" in callables(out["full.pt"])


def test_joblib_inline_arrays_are_skipped_not_decoded(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    np = pytest.importorskip("numpy")
    buf = io.BytesIO()
    joblib.dump(
        {
            "coef": np.arange(300, dtype="float64").reshape(30, 10),
            "names": ["a"],
            "ints": np.arange(7, dtype="int16"),
            "obj": np.array(["x", 1], dtype=object),
        },
        buf,
    )
    r = one(tmp_path, "model.joblib", buf.getvalue())
    assert r.status == "clean", r.findings
    assert r.kind == "joblib"


def test_benign_remote_code_and_templates(tmp_path: Path) -> None:
    modeling = (
        b"import torch\nfrom torch import nn\nfrom .configuration_x import XConfig\n"
        b"import logging\nlogger = logging.getLogger(__name__)\n\n"
        b"class XModel(nn.Module):\n    config_class = XConfig\n"
        b"    def forward(self, x):\n        return getattr(self, 'proj', None)\n"
    )
    files = {
        "modeling_x.py": modeling,
        "configuration_x.py": b"class XConfig:\n    model_type = 'x'\n",
        "tokenizer_config.json": json.dumps(
            {
                "chat_template": [
                    {
                        "name": "default",
                        "template": "{% for m in messages %}{{ m['content'] | trim }}"
                        "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}",
                    },
                    {
                        "name": "tool_use",
                        "template": "{%- set ns = namespace(x=0) -%}{% for t in tools"
                        " %}{{ t | tojson }}{% set ns.x = ns.x + 1 %}{% endfor %}",
                    },
                ],
                "eos_token": "</s>",
            }
        ).encode(),
        "chat_template.jinja": b"{% for m in messages %}{{ '<|' ~ m.role ~ '|>' ~ "
        b"m.content.strip() }}{% if loop.last %}{% break %}{% endif %}{% endfor %}\n"
        b"{% generation %}{{ eos_token }}{% endgeneration %}",
    }
    out = scan(tmp_path, files)
    for name, r in out.items():
        assert r.status == "clean", (name, r.findings)
    assert out["tokenizer_config.json"].kind == "chat-template"


# -- malicious pickles --------------------------------------------------------------------

GADGETS = [
    ("os", "system", "MC301"),
    ("posix", "system", "MC301"),
    ("nt", "system", "MC301"),
    ("subprocess", "Popen", "MC301"),
    ("builtins", "exec", "MC300"),
    ("builtins", "eval", "MC300"),
    ("builtins", "compile", "MC300"),
    ("pip", "main", "MC301"),
    ("runpy", "_run_code", "MC300"),
    ("pty", "spawn", "MC301"),
    ("timeit", "timeit", "MC300"),
    ("cProfile", "run", "MC300"),
    ("profile", "run", "MC300"),
    ("_osx_support", "_read_output", "MC301"),
    ("imaplib", "IMAP4_stream", "MC301"),
    ("multiprocessing.util", "spawnv_passfds", "MC301"),
    ("ensurepip", "_run_pip", "MC301"),
    ("torch.utils.collect_env", "run", "MC301"),
    ("torch.jit.unsupported_tensor_ops", "execWrapper", "MC300"),
    ("asyncio.unix_events", "_UnixSubprocessTransport._start", "MC301"),
    ("ctypes", "CDLL", "MC300"),
    ("marshal", "loads", "MC300"),
    ("types", "FunctionType", "MC300"),
    ("webbrowser", "open", "MC301"),
    ("socket", "create_connection", "MC303"),
    ("urllib.request", "urlopen", "MC303"),
    ("shutil", "rmtree", "MC302"),
    ("builtins", "open", "MC302"),
    ("importlib", "import_module", "MC304"),
    ("builtins", "getattr", "MC304"),
    ("pkgutil", "resolve_name", "MC304"),
    ("pydoc", "locate", "MC304"),
    ("operator", "methodcaller", "MC304"),
    ("_operator", "attrgetter", "MC304"),
    ("sys", "modules", "MC304"),
    ("some_package.module", "Thing", "MC305"),
    ("zlib", "decompress", "MC305"),
]


@pytest.mark.parametrize(("mod", "name", "code"), GADGETS)
def test_gadgets_are_graded(tmp_path: Path, mod: str, name: str, code: str) -> None:
    for i, body in enumerate((call(g(mod, name), s(SHELL)), call(sg(mod, name), s(SHELL)))):
        r = one(tmp_path / str(i), "x.pkl", wrap(body, 4))
        assert r.status == "unsafe", r.findings
        assert code in codes(r), (mod, name, codes(r))


@pytest.mark.parametrize(
    ("data", "code", "target"),
    [
        (b"c__builtin__\neval\n(V" + PY.encode() + b"\ntR.", "MC300", "builtins.eval"),
        (b"(V" + PY.encode() + b"\nibuiltins\nexec\n.", "MC300", "builtins.exec"),
        (wrap(b"(" + g("builtins", "exec") + s(PY) + b"o"), "MC300", "builtins.exec"),
        (wrap(g("os", "system") + s(SHELL) + b"\x85\x81"), "MC301", "os.system"),
        (wrap(g("os", "system") + s(SHELL) + b"\x85}\x92", 4), "MC301", "os.system"),
        (wrap(b"S'os'\nS'system'\n\x93(" + s(SHELL) + b"tR", 4), "MC301", "os.system"),
        (
            wrap(b"Vos\np2\n0Vsystem\np3\n0Vtorch\np0\n0g2\ng3\n\x93(" + s(SHELL) + b"tR", 4),
            "MC301",
            "os.system",
        ),
        (
            wrap(
                s("os")
                + b"q\x000"
                + s("system")
                + b"q\x010"
                + s("collections")
                + b"q\x000"
                + s("OrderedDict")
                + b"q\x010"
                + s("os")
                + b"q\x000"
                + s("system")
                + b"q\x010"
                + b"h\x00h\x01\x93("
                + s(SHELL)
                + b"tR",
                4,
            ),
            "MC301",
            "os.system",
        ),
        (
            wrap(
                s("os") + b"\x940" + s("system") + b"\x940" + b"h\x00h\x01\x93(" + s(SHELL) + b"tR",
                4,
            ),
            "MC301",
            "os.system",
        ),
    ],
    ids=[
        "py2-builtin",
        "INST",
        "OBJ",
        "NEWOBJ",
        "NEWOBJ_EX",
        "STRING-operands",
        "text-memo",
        "memo-overwrite",
        "MEMOIZE",
    ],
)
def test_opcode_and_memo_variants(tmp_path: Path, data: bytes, code: str, target: str) -> None:
    r = one(tmp_path, "x.pkl", data)
    assert r.status == "unsafe" and code in codes(r)
    assert target in callables(r)


@pytest.mark.parametrize(
    ("body", "target"),
    [
        (call(call(g("pkgutil", "resolve_name"), s("os:system")), s(SHELL)), "os.system"),
        (
            call(
                call(g("operator", "methodcaller"), s("system"), s(SHELL)),
                call(g("importlib", "import_module"), s("os")),
            ),
            "os.system",
        ),
        (
            call(
                call(g("_operator", "methodcaller"), s("system"), s(SHELL)),
                call(g("pydoc", "locate"), s("os")),
            ),
            "os.system",
        ),
        (
            call(
                call(
                    call(g("operator", "attrgetter"), s("system")),
                    call(g("builtins", "__import__"), s("os")),
                ),
                s(SHELL),
            ),
            "os.system",
        ),
        (
            call(
                call(
                    g("builtins", "getattr"),
                    call(g("importlib", "import_module"), s("os")),
                    s("system"),
                ),
                s(SHELL),
            ),
            "os.system",
        ),
        (
            call(call(g("builtins", "dict.get"), g("numpy", "__builtins__"), s("exec")), s(PY)),
            "builtins.exec",
        ),
    ],
    ids=["pkgutil", "methodcaller", "pydoc-_operator", "attrgetter", "getattr", "__builtins__"],
)
def test_resolvers_are_resolved_to_their_target(tmp_path: Path, body: bytes, target: str) -> None:
    r = one(tmp_path, "x.pkl", wrap(body, 4))
    assert r.status == "unsafe"
    assert {"MC304", "MC314"} <= codes(r)
    hit = [f for f in r.findings if f.code == "MC314"]
    assert any(f.extra.get("callable") == target for f in hit), hit


def test_dotted_names_are_judged_on_their_final_target(tmp_path: Path) -> None:
    r = one(tmp_path, "a.pkl", wrap(call(sg("torch", "serialization.os.system"), s(SHELL)), 4))
    assert "MC308" in codes(r) and "os.system" in callables(r)
    r = one(
        tmp_path / "b", "b.pkl", wrap(call(sg("torch.nn.modules.module", "os.system"), s(SHELL)), 4)
    )
    assert "MC308" in codes(r)
    v = judge("numpy", "__builtins__")
    assert v.grade == "import-machinery"
    assert judge("torch._utils", "_rebuild_tensor_v2").status == "allowed"
    # the same function reached as an attribute of its package is the same function
    assert judge("torch", "_utils._rebuild_tensor_v2").status == "allowed"
    assert judge("torch", "_utils.os.system").grade == "process"


def test_computed_global_names(tmp_path: Path) -> None:
    body = (
        call(g("_codecs", "decode"), s("bf"), s("rot_13"))
        + call(g("_codecs", "decode"), s("flfgrz"), s("rot_13"))
        + b"\x93("
        + s(SHELL)
        + b"tR"
    )
    r = one(tmp_path, "x.pkl", wrap(body, 4))
    assert r.status == "unsafe" and "MC306" in codes(r)


def test_ext_codes(tmp_path: Path) -> None:
    reg = (
        call(g("copyreg", "add_extension"), s("os"), s("system"), b"K\xf1")
        + b"0"
        + b"\x82\xf1("
        + s(SHELL)
        + b"tR"
    )
    r = one(tmp_path, "reg.pkl", wrap(reg))
    assert "MC301" in codes(r) and "os.system" in callables(r)
    r = one(tmp_path / "b", "ext.pkl", wrap(b"\x83\x10\x00(" + s(SHELL) + b"tR"))
    assert r.status == "unsafe" and "MC307" in codes(r)


@pytest.mark.parametrize("wrapper", ["raw", "zlib", "base64", "base64-zlib", "proto2-bytes"])
def test_nested_pickles_are_decoded_and_scanned(tmp_path: Path, wrapper: str) -> None:
    inner = system_call()
    arg = {
        "raw": by(inner),
        "zlib": call(g("zlib", "decompress"), by(zlib.compress(inner))),
        "base64": call(g("base64", "b64decode"), s(base64.b64encode(inner).decode())),
        "base64-zlib": call(
            g("zlib", "decompress"),
            call(g("base64", "b64decode"), s(base64.b64encode(zlib.compress(inner)).decode())),
        ),
        "proto2-bytes": call(g("_codecs", "encode"), s(inner.decode("latin-1")), s("latin1")),
    }[wrapper]
    r = one(tmp_path, "x.pkl", wrap(call(g("pickle", "loads"), arg)))
    assert r.status == "unsafe"
    assert {"MC300", "MC310", "MC301"} <= codes(r), codes(r)
    nested = [f for f in r.findings if f.code == "MC310"]
    assert "os.system" in nested[0].message


def test_broken_and_multiple_streams(tmp_path: Path) -> None:
    broken = b"\x80\x02" + call(g("os", "system"), s(SHELL)) + b"0\x00\xff garbage"
    r = one(tmp_path, "broken.pkl", broken)
    assert r.status == "unsafe" and {"MC301", "MC309"} <= codes(r)
    two = pickle.dumps(["a"], protocol=2) + system_call()
    r = one(tmp_path / "b", "two.pkl", two)
    assert r.status == "unsafe" and {"MC301", "MC313"} <= codes(r)
    confusion = wrap(call(g("os", "system"), s(SHELL)) + b"0C\x02os" + s("system") + b"\x93", 4)
    r = one(tmp_path / "c", "conf.pkl", confusion)
    assert r.status == "unsafe" and {"MC301", "MC309"} <= codes(r)


def test_build_and_setitem_on_imported_globals(tmp_path: Path) -> None:
    data = wrap(g("os", "environ") + s("LD_PRELOAD") + s("/tmp/x.so") + b"s")
    r = one(tmp_path, "x.pkl", data)
    assert r.status == "unsafe" and "MC315" in codes(r)


@pytest.mark.parametrize("name", ["raw.bin", "raw.data", "raw.npy", "raw.safetensors", "raw"])
def test_raw_pickles_whatever_their_name(tmp_path: Path, name: str) -> None:
    r = one(tmp_path, name, system_call())
    assert r.status == "unsafe" and "MC301" in codes(r)
    if name.endswith((".npy", ".safetensors")):
        assert "MC343" in codes(r)


def test_protocol0_pickle_without_extension_is_found(tmp_path: Path) -> None:
    r = one(tmp_path, "weights", b"cos\nsystem\n(Vtrue\ntR.")
    assert r.status == "unsafe"


# -- containers ---------------------------------------------------------------------------


def torch_like_zip(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def evil_archive(**kw) -> bytes:
    return torch_like_zip(
        {
            "archive/data.pkl": system_call(),
            "archive/version": b"3\n",
            "archive/data/0": b"\x00" * 64,
        },
        **kw,
    )


def patch(
    data: bytes,
    member: str,
    *,
    crc_xor: int = 0,
    central_flags: int = 0,
    local_name: bytes | None = None,
) -> bytes:
    b = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        zi = z.getinfo(member)
    lh = zi.header_offset
    if crc_xor:
        struct.pack_into("<I", b, lh + 14, struct.unpack_from("<I", b, lh + 14)[0] ^ crc_xor)
    if local_name is not None:
        b[lh + 30 : lh + 30 + len(local_name)] = local_name
    i = 0
    while (i := b.find(b"PK\x01\x02", i)) >= 0:
        nlen = struct.unpack_from("<H", b, i + 28)[0]
        if bytes(b[i + 46 : i + 46 + nlen]) == member.encode():
            struct.pack_into("<H", b, i + 8, struct.unpack_from("<H", b, i + 8)[0] | central_flags)
            if crc_xor:
                struct.pack_into("<I", b, i + 16, struct.unpack_from("<I", b, i + 16)[0] ^ crc_xor)
        i += 4
    return bytes(b)


def test_torch_zip_variants(tmp_path: Path) -> None:
    files = {
        "injected.pt": evil_archive(),
        "deflated.pth": evil_archive(method=zipfile.ZIP_DEFLATED),
        "bad_crc.pt": patch(evil_archive(), "archive/data.pkl", crc_xor=0xDEADBEEF),
        "encrypted_flag.pt": patch(evil_archive(), "archive/data.pkl", central_flags=1),
        "mangled.pt": patch(evil_archive(), "archive/data.pkl", local_name=b"archive/datap.kl"),
        "constants.pt": torch_like_zip(
            {
                "archive/data.pkl": pickle.dumps({}, 2),
                "archive/constants.pkl": system_call(),
                "archive/version": b"3\n",
            }
        ),
        "wrong_ext.zip": torch_like_zip(
            {"archive/data.pkl": pickle.dumps({}, 2), "archive/data.txt": system_call()}
        ),
        "storage_member.pt": torch_like_zip(
            {"archive/data.pkl": pickle.dumps({}, 2), "archive/data/0": system_call()}
        ),
    }
    out = scan(tmp_path, files)
    for name, r in out.items():
        assert r.status == "unsafe", (name, r.findings)
        assert "MC301" in codes(r), (name, codes(r))
    for name in ("bad_crc.pt", "encrypted_flag.pt", "mangled.pt"):
        assert "MC320" in codes(out[name]), name
    assert "MC321" in codes(out["constants.pt"])


def test_duplicate_zip_entries_are_reported(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({}, 2))
        with pytest.warns(UserWarning):
            z.writestr("archive/data.pkl", system_call())
    r = one(tmp_path, "dup.pt", buf.getvalue())
    assert r.status == "unsafe" and {"MC320", "MC301"} <= codes(r)


def test_legacy_torch_payloads(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(3)}, buf, _use_new_zipfile_serialization=False)
    leg = buf.getvalue()
    evil = leg[:2] + call(g("os", "system"), s(SHELL)) + b"0" + leg[2:]
    r = one(tmp_path, "legacy.pth", evil)
    assert r.kind == "torch-legacy" and r.status == "unsafe" and "MC301" in codes(r)


def test_numpy_object_arrays(tmp_path: Path) -> None:
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += " " * (63 - len(header) % 64) + "\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
    evil_npy = npy + wrap(b"]" + call(g("os", "system"), s(SHELL)) + b"a", 4)
    npz = torch_like_zip({"w.npy": evil_npy})
    out = scan(tmp_path, {"a.npy": evil_npy, "b.npz": npz})
    for r in out.values():
        assert r.status == "unsafe" and {"MC322", "MC301"} <= codes(r), r.findings
    off = [f.offset for f in out["a.npy"].findings if f.code == "MC301"][0]
    assert off == len(npy) + 2 + 1  # absolute: header + PROTO + EMPTY_LIST


def test_joblib_payload(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    np = pytest.importorskip("numpy")
    buf = io.BytesIO()
    joblib.dump({"coef": np.arange(5)}, buf)
    clean = buf.getvalue()
    evil = clean[:2] + call(g("os", "system"), s(SHELL)) + b"0" + clean[2:]
    r = one(tmp_path, "m.joblib", evil)
    assert r.status == "unsafe" and "MC301" in codes(r)


def test_archives_are_opened(tmp_path: Path) -> None:
    tb = io.BytesIO()
    with tarfile.open(fileobj=tb, mode="w") as t:
        data = system_call()
        ti = tarfile.TarInfo("ckpt/data.pkl")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    files = {
        "a.tar": tb.getvalue(),
        "b.pt.gz": gzip.compress(evil_archive()),
        "c.tar.gz": gzip.compress(tb.getvalue()),
    }
    out = scan(tmp_path, files)
    for name, r in out.items():
        assert r.status == "unsafe", (name, r.findings)
        assert {"MC323", "MC301"} <= codes(r)


def test_7z_archives(tmp_path: Path) -> None:
    py7zr = pytest.importorskip("py7zr")
    src = tmp_path / "src"
    src.mkdir()
    (src / "data.pkl").write_bytes(system_call())
    arc = tmp_path / "rel" / "payload.7z"
    arc.parent.mkdir()
    with py7zr.SevenZipFile(arc, "w") as z:
        z.write(src / "data.pkl", "archive/data.pkl")
    enc = tmp_path / "rel" / "locked.7z"
    with py7zr.SevenZipFile(enc, "w", password="secret") as z:
        z.set_encrypted_header(True)
        z.write(src / "data.pkl", "archive/data.pkl")
    report = analyze(open_release(str(tmp_path / "rel")))
    by_path = {r.path: r for r in report.files}
    assert by_path["payload.7z"].status == "unsafe" and "MC301" in codes(by_path["payload.7z"])
    locked = by_path["locked.7z"]
    assert locked.status == "unsupported" and "MC341" in codes(locked)


def test_unsupported_zip_compression_is_not_clean(tmp_path: Path) -> None:
    r = one(tmp_path, "x.pt", evil_archive(method=zipfile.ZIP_BZIP2))
    assert r.status == "unsupported" and "MC341" in codes(r)


# -- malformed ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "needle"),
    [
        ("trunc.pt", evil_archive()[:100], "zip"),
        ("png.pt", b"\x89PNG\r\n\x1a\n" + b"\0" * 16, "neither"),
        ("bad.pkl", b"cmod\n\xf8\n", "UTF-8"),
        ("empty.pkl", b"", "empty"),
        ("bad.safetensors", struct.pack("<Q", 10**6) + b"{}", "header"),
        ("bad.gguf", b"GGUF\x03\x00\x00\x00" + b"\x00" * 4, "truncated"),
        ("bad.npy", b"\x93NUMPY\x01\x00\xff\xff{", "NPY"),
        ("trunc.pkl", pickle.dumps({"a": list(range(50))}, 2)[:40], "truncated"),
    ],
)
def test_malformed_files(tmp_path: Path, name: str, data: bytes, needle: str) -> None:
    r = one(tmp_path, name, data)
    assert r.status == "malformed", r.findings
    msgs = " ".join(f.message for f in r.findings if f.code == "MC107")
    assert needle.lower() in msgs.lower(), msgs


# -- remote code and templates -------------------------------------------------------------


def test_auto_map_and_python_review(tmp_path: Path) -> None:
    files = {
        "config.json": json.dumps(
            {
                "auto_map": {
                    "AutoConfig": "configuration_t.TConfig",
                    "AutoModel": "modeling_t.TModel",
                    "AutoModelForCausalLM": "org/other--modeling_o.OModel",
                    "AutoTokenizer": ["tokenization_missing.Tok", None],
                },
                "custom_pipelines": {"text-x": {"impl": "pipeline_t.TPipe"}},
            },
            indent=2,
        ).encode(),
        "configuration_t.py": b"class TConfig:\n    pass\n",
        "pipeline_t.py": b"class TPipe:\n    pass\n",
        "modeling_t.py": b"from .helpers import h\nclass TModel:\n    pass\n",
        "helpers.py": (
            b"import os, subprocess as sp, socket\nimport pickle\nimport torch\n"
            b"from importlib import import_module\n"
            b"def h(name, path):\n"
            b"    sp.run(['true'])\n    eval('1')\n    import_module(name)\n"
            b"    socket.create_connection(('x', 1))\n    open(path, 'w').write('x')\n"
            b"    pickle.loads(b'')\n    torch.load(path)\n"
            b"    torch.load(path, weights_only=True)\n"
            b"os.system('true')\n"
        ),
        "broken.py": b"def f(:\n",
    }
    out = scan(tmp_path, files)
    cfg = out["config.json"]
    assert cfg.status == "unsafe"
    assert {"MC330", "MC331", "MC332"} <= codes(cfg)
    assert any("pipeline text-x" in f.message for f in cfg.findings if f.code == "MC330")
    runs = [f for f in cfg.findings if f.code == "MC330" and "modeling_t" in f.message][0]
    assert runs.extra["runs"] == ["modeling_t.py", "helpers.py"]
    assert runs.line is not None and runs.quote == "modeling_t.TModel"
    h = out["helpers.py"]
    assert {"MC333", "MC334", "MC335", "MC336", "MC337", "MC338", "MC339"} <= codes(h)
    loads = [f for f in h.findings if f.code == "MC338"]
    assert len(loads) == 2  # pickle.loads and torch.load without weights_only
    assert all(str(f.severity) == "low" for f in loads)  # inside a function: a note
    top = [f for f in h.findings if f.code == "MC339"][0]
    assert top.line == 14 and top.quote == "os.system('true')"
    assert out["broken.py"].status == "malformed" and "MC342" in codes(out["broken.py"])
    assert out["configuration_t.py"].status == "clean"


SSTI = "{{ cycler.__init__.__globals__.os.popen('true').read() }}"
OBF = (
    "{% set a = '__in' ~ 'it__' %}{{ ((joiner | attr(a)) | attr('__glo' ~ 'bals__'))"
    "['o' ~ 's'] | attr('po' ~ 'pen') }}"
)


@pytest.mark.parametrize(
    ("template", "code"),
    [
        (SSTI, "MC350"),
        (OBF, "MC351"),
        ("{{ messages | attr('__class__') }}", "MC350"),
        ("{{ '{0.__class__}'.format(messages) }}", "MC350"),
        ("{{ messages['__cl' ~ 'ass__'] }}", "MC350"),
        ("{{ lipsum }}", "MC352"),
        ("{% for m in messages %}", "MC353"),
    ],
)
def test_hostile_templates(tmp_path: Path, template: str, code: str) -> None:
    files = {
        "tokenizer_config.json": json.dumps({"chat_template": template}).encode(),
        "chat_template.jinja": template.encode(),
    }
    out = scan(tmp_path, files)
    for r in out.values():
        assert code in codes(r), (r.path, r.findings)
        if code in ("MC350", "MC351"):
            assert r.status == "unsafe"
        elif code == "MC352":  # medium: below the default gate, named for what it is
            assert r.status == "warning"


def test_gguf_chat_template(tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf")
    np = pytest.importorskip("numpy")
    p = tmp_path / "m.gguf"
    w = gguf.GGUFWriter(str(p), "llama")
    w.add_chat_template(SSTI)
    w.add_tensor("t", np.zeros((2, 2), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    r = analyze(open_release(str(tmp_path))).files[0]
    assert r.status == "unsafe" and "MC350" in codes(r)
    f = [f for f in r.findings if f.code == "MC350"][0]
    assert f.offset is not None and f.offset > 0


class _CountingBuffer:
    """A read-only buffer that counts the bytes the scanner slices out of it."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.read = 0

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, key):
        out = self.data[key]
        self.read += len(out) if isinstance(key, slice) else 1
        return out


def test_tensor_data_is_not_read() -> None:
    from modelclear.analyzers.security.files import examine_buffer

    big = bytes(range(256)) * (32 * 1024)  # 8 MiB of "tensor data" per storage
    data = torch_like_zip(
        {
            "archive/data.pkl": pickle.dumps(OrderedDict(w=1), protocol=2),
            "archive/data/0": big,
            "archive/data/1": big,
            "archive/version": b"3\n",
        }
    )
    buf = _CountingBuffer(data)
    out = examine_buffer(buf, path="m.pt", name="m.pt")
    assert out.kind == "torch-zip" and not out.malformed
    assert buf.read < 200_000, buf.read  # directory, headers, data.pkl, 16-byte sniffs


def test_training_args_style_pickles_need_review_but_are_not_unsafe(tmp_path: Path) -> None:
    """transformers' training_args.bin: a dataclass rebuilt field by field, enums by value."""
    obj = call(
        g("copyreg", "_reconstructor"),
        g("transformers.training_args", "TrainingArguments"),
        g("builtins", "object"),
        b"N",
    )
    state = (
        b"}("
        + s("eval_strategy")
        + call(g("transformers.trainer_utils", "IntervalStrategy"), s("steps"))
        + s("learning_rate")
        + b"G"
        + struct.pack(">d", 3e-4)
        + b"u"
    )
    r = one(tmp_path, "training_args.bin", wrap(obj + state + b"b"))
    assert r.status == "clean", r.findings
    assert "MC312" in codes(r)
    assert "transformers.training_args.TrainingArguments" in callables(r)
    # the same file with one gadget more is unsafe
    evil = wrap(obj + state + b"b0" + call(g("os", "system"), s(SHELL)))
    assert one(tmp_path / "e", "training_args.bin", evil).status == "unsafe"


def test_ordinary_tokenizer_code_is_not_unsafe(tmp_path: Path) -> None:
    """save_vocabulary-style writes and on-demand imports inside functions are notes."""
    code = (
        b"import os\nimport importlib\n\n"
        b"class Tok:\n"
        b"    def save_vocabulary(self, d, prefix=None):\n"
        b"        path = os.path.join(d, 'vocab.txt')\n"
        b"        with open(path, 'w', encoding='utf-8') as f:\n"
        b"            f.write('x')\n"
        b"        return (path,)\n"
        b"    def backend(self, name):\n"
        b"        return importlib.import_module(name)\n"
    )
    r = one(tmp_path, "tokenization_x.py", code)
    assert r.status == "clean", r.findings
    assert {"MC337", "MC335"} <= codes(r)
    assert all(str(f.severity) == "low" for f in r.findings)
    # the same write at module level runs on import: medium, so a warning
    r = one(tmp_path / "b", "tokenization_y.py", b"open('/etc/x', 'w').write('x')\n")
    assert r.status == "warning" and {"MC337", "MC339"} <= codes(r)


BENIGN_TEMPLATES = [
    # Llama-3.1-style: dates, tools, ipython role
    "{%- set date_string = strftime_now('%d %b %Y') -%}{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']"
    " | trim %}{%- set messages = messages[1:] %}{%- else %}{%- set system_message = '' %}"
    "{%- endif %}{{ 'Today Date: {}.'.format(date_string) }}"
    "{%- for message in messages %}{%- if message.role == 'ipython' %}"
    "{{ message.content | tojson }}{%- elif message.tool_calls is defined %}"
    "{%- for tc in message.tool_calls %}{{ tc.function.name }}"
    "{{ tc.function.arguments | tojson }}{%- endfor %}{%- else %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + "
    "message['content'] | trim + '<|eot_id|>' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>' }}"
    "{%- endif %}",
    # Qwen3-style: reasoning content split, namespace flags, loop controls
    "{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}"
    "{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}"
    "{%- if ns.multi_step_tool and message.role == 'user' %}{%- set ns.multi_step_tool = false"
    " %}{%- set ns.last_query_index = index %}{%- endif %}{%- endfor %}"
    "{%- for message in messages %}{%- set content = message.content if message.content is "
    "string else '' %}{%- if '</think>' in content %}{%- set reasoning_content = content."
    "split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}{%- endif %}"
    "{{ '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- if enable_thinking "
    "is defined and enable_thinking is false %}{{ '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{%- endif %}",
    # Mistral-style: alternation check with raise_exception, macros
    "{%- macro render(m) -%}[INST] {{ m['content'] }} [/INST]{%- endmacro -%}"
    "{{ bos_token }}{%- for message in messages %}{%- if (message['role'] == 'user') != "
    "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate') }}"
    "{%- endif %}{%- if message['role'] == 'user' %}{{ render(message) }}{%- else %}"
    "{{ message['content'] + eos_token }}{%- endif %}{%- endfor %}",
]


@pytest.mark.parametrize("template", BENIGN_TEMPLATES, ids=["llama3", "qwen3", "mistral"])
def test_real_world_style_templates_are_clean(tmp_path: Path, template: str) -> None:
    out = scan(
        tmp_path,
        {
            "tokenizer_config.json": json.dumps({"chat_template": template}).encode(),
            "chat_template.jinja": template.encode(),
        },
    )
    for r in out.values():
        assert r.status == "clean", r.findings
        assert not [f for f in r.findings if f.severity.rank >= 2], r.findings


_torch = __import__("torch") if __import__("importlib").util.find_spec("torch") else None


class _Scripted(_torch.nn.Module if _torch is not None else object):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.lin = _torch.nn.Linear(3, 2)

    def forward(self, x):
        return self.lin(x)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript_archive_is_clean_but_its_gadgets_are_not(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "rel" / "scripted.pt"
    path.parent.mkdir()
    torch.jit.save(torch.jit.script(_Scripted()), str(path))
    r = analyze(open_release(str(path.parent))).files[0]
    assert r.status == "clean", r.findings
    assert any(i.startswith("__torch__.") for i in r.imports)
    # __torch__ names are only trusted inside TorchScript archives
    plain = one(tmp_path / "p", "x.pkl", wrap(call(g("__torch__", "M"))))
    assert plain.status == "unsafe"
