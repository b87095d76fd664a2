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


def test_same_size_rewrite_with_restored_mtime_is_rehashed(tmp_path):
    import os

    p = tmp_path / "w"
    p.write_bytes(b"aaaa")
    st = os.stat(p)
    first = hashing.hash_files([stat_file(p, "w")])["w"]
    p.write_bytes(b"bbbb")
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert hashing.hash_files([stat_file(p, "w")])["w"] == hashlib.sha256(b"bbbb").hexdigest()
    assert first != hashlib.sha256(b"bbbb").hexdigest()


def test_non_utf8_file_name_is_hashed(tmp_path):
    import os

    p = os.path.join(os.fsencode(tmp_path), b"caf\xe9.bin")
    with open(p, "wb") as fh:
        fh.write(b"x")
    f = stat_file(tmp_path / os.fsdecode(b"caf\xe9.bin"), os.fsdecode(b"caf\xe9.bin"))
    assert hashing.hash_files([f])[f.path] == hashlib.sha256(b"x").hexdigest()
