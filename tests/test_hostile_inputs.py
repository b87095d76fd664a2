"""Hostile inputs are bounded in every command (issue 13, "Hostile inputs bounded").

Each case is a release built to hurt a scanner: a directory ~1,000 levels deep, symlinks
to /dev/zero, /dev/urandom, a FIFO and a socket, a 1 TB sparse shard, a 10 MB chat
template, 100,000 chat templates, a file name that is not UTF-8, a 4 MB gzip bomb and a
19 MB ``.py`` file. Every command (inspect, scan, license, plan, check, audit, record,
verify) runs on each in its own process under a 4 GB address-space limit and a timeout.
Asserted: it finishes, no traceback, exit 0/1 or one clear line with exit 2, JSON
output (where asked) is valid UTF-8 JSON, and peak RSS stays under 1 GB.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

LIMIT_AS = 4 << 30
PEAK_RSS = 1 << 30
TIMEOUT = 60.0
CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
          "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
          "num_key_value_heads": 2, "vocab_size": 256, "torch_dtype": "bfloat16"}
COMMANDS = ("inspect", "scan", "license", "plan", "check", "audit", "record", "verify")


def _base(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps(CONFIG))
    return root


def deep(root: Path) -> None:
    """1,000 nested folders, made relative to a directory descriptor (a path that long
    passes PATH_MAX, so no tool could name the leaf by its full path)."""
    fd = os.open(_base(root), os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(1000):
        os.mkdir("d", dir_fd=fd)
        nxt = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nxt
    leaf = os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(leaf, b"bottom")
    os.close(leaf)
    os.close(fd)


def undeep(root: Path) -> None:
    """Remove what :func:`deep` made, bottom up through directory descriptors: pytest's
    own clean-up of old temporary folders recurses, and 1,000 levels overflow it."""
    fds = [os.open(root, os.O_RDONLY | os.O_DIRECTORY)]
    try:
        while True:
            try:
                fds.append(os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fds[-1]))
            except FileNotFoundError:
                break
        for name in os.listdir(fds[-1]):
            os.unlink(name, dir_fd=fds[-1])
        for parent in reversed(fds[:-1]):
            os.rmdir("d", dir_fd=parent)
    finally:
        for fd in fds:
            os.close(fd)


def devices(root: Path) -> None:
    r = _base(root)
    os.symlink("/dev/zero", r / "zero.bin")
    os.symlink("/dev/urandom", r / "random.safetensors")
    os.mkfifo(r.parent / "fifo")
    os.symlink(r.parent / "fifo", r / "fifo.pt")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(r.parent / "sock"))
    sock.close()
    os.symlink(r.parent / "sock", r / "sock.gguf")


def sparse(root: Path) -> None:
    r = _base(root)
    with open(r / "model-00001-of-00001.safetensors", "wb") as fh:
        header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})
        fh.write(len(header).to_bytes(8, "little") + header.encode())
        fh.truncate(1 << 40)


def big_template(root: Path) -> None:
    r = _base(root)
    body = "{% for m in messages %}{{ m['content'] }}{% endfor %}" * (10_000_000 // 52)
    (r / "tokenizer_config.json").write_text(json.dumps({"chat_template": body}))


def many_templates(root: Path) -> None:
    r = _base(root)
    items = [{"name": f"t{i}", "template": "{{ messages[0]['content'] }}"}
             for i in range(100_000)]
    (r / "tokenizer_config.json").write_text(json.dumps({"chat_template": items}))


def non_utf8(root: Path) -> None:
    r = _base(root)
    name = os.fsencode(r) + b"/mod\xffel\xfe.pt"
    with open(name, "wb") as fh:
        fh.write(b"\x80\x02}q\x00.")


def gzip_bomb(root: Path) -> None:
    r = _base(root)
    with gzip.open(r / "weights.pkl.gz", "wb", compresslevel=9) as gz:
        chunk = bytes(1 << 24)
        for _ in range(256):  # 4 GiB of zeros, about 4 MB compressed
            gz.write(chunk)


def huge_python(root: Path) -> None:
    r = _base(root)
    line = "x = [1, 2, 3, {'a': (4, 5)}, 'text'] + [i for i in range(3)]\n"
    (r / "modeling_big.py").write_text(line * (19_000_000 // len(line)))


CASES: dict[str, Callable[[Path], None]] = {
    "deep-1000": deep, "device-symlinks": devices, "sparse-1tb": sparse,
    "template-10mb": big_template, "templates-100k": many_templates,
    "non-utf8-name": non_utf8, "gzip-bomb-4mb": gzip_bomb, "python-19mb": huge_python,
}


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))


def _run_measured(args: list[str], env: dict[str, str]) -> tuple[int, bytes, bytes, int, float]:
    """Like _run, but the peak RSS of that child alone, from wait4."""
    start = time.monotonic()
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(w_out, 1)
            os.dup2(w_err, 2)
            os.close(r_out)
            os.close(r_err)
            _limit()
            os.execve(sys.executable, [sys.executable, "-m", "modelclear", *args], env)
        finally:
            os._exit(127)
    os.close(w_out)
    os.close(w_err)
    out, err = bytearray(), bytearray()
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(r_out, selectors.EVENT_READ, out)
    sel.register(r_err, selectors.EVENT_READ, err)
    open_fds = 2
    while open_fds:
        left = TIMEOUT - (time.monotonic() - start)
        if left <= 0:
            os.kill(pid, 9)
            os.wait4(pid, 0)
            pytest.fail(f"{args[0]} hung (> {TIMEOUT:.0f} s)")
        for key, _ in sel.select(timeout=min(left, 1.0)):
            chunk = os.read(key.fd, 1 << 16)
            if chunk:
                key.data.extend(chunk)
            else:
                sel.unregister(key.fd)
                os.close(key.fd)
                open_fds -= 1
    _, status, usage = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return code, bytes(out), bytes(err), usage.ru_maxrss * 1024, time.monotonic() - start


def _args(cmd: str, target: Path, registry: str) -> list[str]:
    if cmd in ("record", "verify"):
        return [cmd, str(target), "--registry", registry, "--json", "--quiet"]
    if cmd == "check":
        return [cmd, str(target), "--profile", "prototype", "--json", "--quiet"]
    if cmd == "audit":
        return [cmd, str(target), "--profile", "prototype", "--format", "json", "--quiet"]
    return [cmd, str(target), "--json", "--quiet"]


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    base = tmp_path_factory.mktemp("hostile")
    # the deep tree lives outside pytest's temporary root: should this session die before
    # the clean-up below, pytest's later recursive clean-up must not meet 1,000 levels
    outside = Path(tempfile.mkdtemp(prefix="modelclear-hostile-"))
    out = {}
    for name, build in CASES.items():
        root = (outside if name == "deep-1000" else base) / name / "release"
        build(root)
        out[name] = root
    try:
        yield out
    finally:
        undeep(out["deep-1000"])
        shutil.rmtree(outside)


@pytest.mark.parametrize("case", list(CASES))
def test_every_command_is_bounded(case: str, releases: dict[str, Path],
                                  tmp_path: Path) -> None:
    env = dict(os.environ)
    env["MODELCLEAR_CACHE_DIR"] = str(tmp_path / "cache")
    env["HF_HUB_OFFLINE"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    registry = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    problems = []
    for cmd in COMMANDS:
        code, out, err, rss, secs = _run_measured(_args(cmd, releases[case], registry), env)
        text = (out + err).decode("utf-8", "replace")
        where = f"{case} {cmd}: exit {code}, {rss >> 20} MB, {secs:.1f} s"
        sys.stdout.write(where + "\n")  # the figures, with pytest -s
        if "Traceback" in text or code not in (0, 1, 2):
            problems.append(f"{where}: {text[-400:]}")
            continue
        if rss > PEAK_RSS:
            problems.append(f"{where}: peak RSS over {PEAK_RSS >> 20} MB")
        if code == 2:
            lines = [ln for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
            if len(lines) != 1:
                problems.append(f"{where}: exit 2 needs one line, got {lines[:3]}")
            continue
        try:
            json.loads(out.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(f"{where}: --json output is not valid UTF-8 JSON ({exc})")
    assert not problems, "\n".join(problems)
