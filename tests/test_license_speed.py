"""What keeps ``modelclear license`` fast without changing a result (issue 12's speed floor).

Identification runs in plain Python, so the shingle hashes must stay bit-for-bit the
ones ``fingerprints.json`` was built with; and the bare-text path must not import what
it does not use (numpy alone cost ~100 ms per process).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import zlib
from pathlib import Path

from modelclear.analyzers.license.fingerprint import K, pack, shingles, unpack
from modelclear.analyzers.license.normalize import words

_MASK = 0xFFFFFFFF


def _direct(seq: list[str]) -> list[int]:
    """The shingle hash by its definition: each window summed from scratch, no rolling."""
    wh = [zlib.crc32(w.encode("utf-8")) for w in seq]
    if not wh:
        return []
    wh += [0] * max(0, K - len(wh))
    out = []
    for i in range(len(wh) - K + 1):
        acc = 0
        for v in wh[i : i + K]:
            acc = (acc * 0x9E3779B1 + v) & _MASK
        acc ^= acc >> 16
        acc = (acc * 0x45D9F3B) & _MASK
        out.append(acc ^ (acc >> 16))
    return out


def test_rolling_shingles_equal_the_definition() -> None:
    rng = random.Random(12)
    vocab = ["licensee", "shall", "not", "use", "许", "可", "1亿", "ß", "x"]
    for n in [0, 1, 2, K - 1, K, K + 1, 50, 400]:
        seq = [rng.choice(vocab) for _ in range(n)]
        assert shingles(seq) == _direct(seq), n


def test_shingles_match_the_stored_fingerprints() -> None:
    """A text whose fingerprint is stored hashes to exactly its stored shingles (MIT)."""
    from modelclear.analyzers.license.catalog import load_catalog

    cat = load_catalog()
    mit = next(fp for fp in cat.fingerprints if fp.license_id == "MIT")
    text = (
        "Permission is hereby granted, free of charge, to any person obtaining a copy of "
        "this software and associated documentation files (the \"Software\"), to deal in "
        "the Software without restriction"
    )
    got = shingles(words(text))
    assert got and set(got) <= mit.unique  # the opening of MIT is MIT's
    at = list(mit.shingles).index(got[0])
    assert got == list(mit.shingles[at : at + len(got)])  # in the stored order too


def test_pack_round_trips_32_bit_values() -> None:
    values = [0, 1, 0xFFFFFFFF, 0x12345678, 7]
    assert unpack(pack(values)) == values
    assert unpack("") == []


def test_bare_text_path_imports_no_numpy_and_no_release_machinery(tmp_path: Path) -> None:
    (tmp_path / "LICENSE.txt").write_text(
        "Permission is hereby granted, free of charge, to any person obtaining a copy.\n",
        encoding="utf-8",
    )
    code = (
        "import sys, json\n"
        "from modelclear.commands import license as L\n"
        "from modelclear.config import load_config\n"
        f"r = L._results({str(tmp_path)!r}, load_config(None))\n"
        "mods = ['numpy', 'modelclear.parsers.gguf', 'modelclear.analyzers.license.analyze',"
        " 'modelclear.sources']\n"
        "print(json.dumps([len(r), [m for m in mods if m in sys.modules]]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    n, loaded = json.loads(out)
    assert n == 1
    assert loaded == []


def _dense_max_segment(hits: list[bool]) -> tuple[int, int, int]:
    """The densest run by its definition: every prefix, first best end, last minimum."""
    if not hits:
        return 0, -1, 0
    prefix = [0]
    for h in hits:
        prefix.append(prefix[-1] + (1 if h else -1))
    best, end, low = None, 0, prefix[0]
    for j in range(len(hits)):
        low = min(low, prefix[j])
        if best is None or prefix[j + 1] - low > best:
            best, end = prefix[j + 1] - low, j
    assert best is not None
    if best <= 0:
        return 0, -1, 0
    head = prefix[: end + 1]
    return max(i for i, v in enumerate(head) if v == min(head)), end, best


def test_sparse_densest_run_equals_the_dense_definition() -> None:
    from modelclear.analyzers.license.identify import _max_segment, _runs

    rng = random.Random(3)
    for _ in range(3000):
        n = rng.choice([0, 1, 2, 3, 5, 8, 30, 200])
        share = rng.random()
        hits = [rng.random() < share for _ in range(n)]
        assert _max_segment(hits) == _dense_max_segment(hits), hits
        runs = _runs(hits)
        assert [i for s, e in runs for i in range(s, e + 1)] == [i for i, h in enumerate(hits) if h]
        assert all(b[0] > a[1] + 1 for a, b in zip(runs, runs[1:], strict=False))


LICENSE_PROBE = """
import sys
from modelclear.cli import run
sys.argv = ["modelclear", "license", *sys.argv[1:]]
try:
    run()
except SystemExit as exc:
    heavy = [m for m in ("typer", "click", "rich", "modelclear.engine", "pydantic")
             if m in sys.modules]
    sys.stderr.write(f"HEAVY={','.join(heavy)} EXIT={exc.code}\\n")
"""


def _license_probe(cwd: Path, *args: str) -> tuple[str, str]:
    """(the probe's last stderr line, stdout) of ``modelclear license ARGS`` from ``run()``."""
    import os

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    env.pop("FORCE_COLOR", None)
    proc = subprocess.run([sys.executable, "-c", LICENSE_PROBE, *args], capture_output=True,
                          text=True, cwd=cwd, env=env, check=False)
    return proc.stderr.strip().splitlines()[-1], proc.stdout


def test_folder_of_texts_skips_the_cli_stack_and_equals_the_full_cli(tmp_path: Path) -> None:
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "MIT.txt").write_text(
        "Permission is hereby granted, free of charge, to any person obtaining a copy of "
        "this software.\n", encoding="utf-8")
    (texts / "LICENSE").write_text("Licensed under the Apache License, Version 2.0.\n",
                                   encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    lean: dict[tuple[str, ...], str] = {}
    for args in [(str(texts), "--json"), (str(texts),), (str(texts / "MIT.txt"), "--json")]:
        line, lean[args] = _license_probe(work, *args)
        assert line == ("HEAVY= EXIT=0" if "--json" in args else "HEAVY=rich EXIT=0"), args
    doc = json.loads(lean[(str(texts), "--json")])
    assert [r["target"] for r in doc["reports"]] == [str(texts / "LICENSE"), str(texts / "MIT.txt")]
    # a project configuration sends the same command lines through the full CLI
    (work / "modelclear.toml").write_text("ignore = []\n")
    for args, out in lean.items():
        line, full = _license_probe(work, *args)
        assert "typer" in line and line.endswith("EXIT=0"), args
        assert full == out, args


def test_options_the_lean_path_does_not_handle_run_the_full_cli(tmp_path: Path) -> None:
    (tmp_path / "LICENSE").write_text("Licensed under the Apache License, Version 2.0.\n",
                                      encoding="utf-8")
    line, _ = _license_probe(tmp_path, str(tmp_path / "LICENSE"), "--explain", "governing_law")
    assert "typer" in line and line.endswith("EXIT=0")
    line, _ = _license_probe(tmp_path, str(tmp_path / "missing.txt"), "--json")
    assert "typer" in line and line.endswith("EXIT=2")  # not a text: the full CLI words it
