from __future__ import annotations

import hashlib

from modelclear import hashing
from modelclear.release import stat_file


def test_hashes_match_hashlib_and_second_run_reads_nothing(tmp_path, monkeypatch):
    files = []
    for i, size in enumerate((0, 1, hashing.BUFFER + 17, 3 * 1024 * 1024)):
        p = tmp_path / f"f{i}"
        p.write_bytes(bytes([i]) * size)
        files.append(stat_file(p, p.name))
    got = hashing.hash_files(files)
    for f in files:
        assert got[f.path] == hashlib.sha256(f.abspath.read_bytes()).hexdigest()

    def boom(*a, **k):
        raise AssertionError("cached file was re-read")

    monkeypatch.setattr(hashing, "sha256_file", boom)
    assert hashing.hash_files(files) == got


def test_cache_misses_when_file_changes(tmp_path):
    p = tmp_path / "w"
    p.write_bytes(b"one")
    first = hashing.hash_files([stat_file(p, "w")])["w"]
    p.write_bytes(b"two!")
    second = hashing.hash_files([stat_file(p, "w")])["w"]
    assert first != second == hashlib.sha256(b"two!").hexdigest()
