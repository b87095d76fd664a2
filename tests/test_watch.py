"""`watch` (issue 14, part 3): a recorded model's new revision on the hub (loopback
server) or in the local cache, with the license diff and the changed term, card license
field changes and new code files; exit 1 when anything moved or could not be checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_hf_cache, run_cli
from test_hub_mode import hub  # noqa: F401 - the loopback hub fixture
from test_record_support import LICENSE_TEXT, write_release

V1, V2 = "a" * 40, "b" * 40


def _files(tmp_path: Path, license_text: str = LICENSE_TEXT) -> dict[str, bytes]:
    root = write_release(tmp_path / "rel", license_text=license_text)
    out = {p.name: p.read_bytes() for p in sorted(root.iterdir())}
    for p in root.iterdir():
        p.unlink()
    root.rmdir()
    return out


def _watch(capsys, *argv: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = run_cli(["watch", *argv, "--json"])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err and code != 2, cap.err
    return code, json.loads(cap.out)


def test_hub_license_change_between_revisions(hub, tmp_path, capsys):  # noqa: F811
    repo = hub.repo("acme/example")
    old = _files(tmp_path)
    repo.commit(V1, old)
    assert run_cli(["record", "hf://acme/example", "-q"]) == 0
    code, doc = _watch(capsys)
    assert code == 0 and doc["models"][0]["status"] == "unchanged"
    assert doc["schema_version"] == 1
    # the publisher pushes a new commit: a stricter threshold, a card license and code
    new_license = LICENSE_TEXT.replace("more than 5 million monthly active users",
                                       "more than 1 million monthly active users")
    card = old["README.md"].decode().replace("license: other", "license: llama3.1")
    repo.commit(V2, {**old, "LICENSE": new_license.encode(), "README.md": card.encode(),
                     "modeling_example.py": b"import os\n"})
    code, doc = _watch(capsys, "hf://acme/example")
    assert code == 1
    [m] = doc["models"]
    assert (m["status"], m["recorded_revision"], m["current_revision"]) == ("changed", V1, V2)
    [lic] = [d for d in m["drift"]["documents"] if d["path"] == "LICENSE"]
    assert "-2. Scale. If your products had more than 5 million monthly active users in the" \
        in lic["diff"]
    assert "+2. Scale. If your products had more than 1 million monthly active users in the" \
        in lic["diff"]
    mau = next(t for t in lic["terms"] if t["term"] == "mau_threshold")
    assert (mau["old"], mau["new"]) == (5_000_000, 1_000_000)
    codes = [f["code"] for f in doc["findings"]]
    assert {"MC188", "MC183", "MC184", "MC189"} <= set(codes)
    assert m["new_code_files"] == ["modeling_example.py"]
    assert [(c["field"], c["old"], c["new"]) for c in m["drift"]["card"]] == [
        ("license", "other", "llama3.1")]
    assert "MC185" in codes
    # the terminal form shows the diff line and the term
    capsys.readouterr()
    assert run_cli(["watch"]) == 1
    out = capsys.readouterr().out
    assert "+2. Scale." in out and "mau_threshold" in out and "modeling_example.py" in out
    # weights were never fetched to watch: the record and the new revision read headers
    assert all(r.range is not None for r in hub.log
               if r.path.endswith(".safetensors") and r.method == "GET")


def test_cache_revision_change(hf_hub, tmp_path, capsys):
    files = _files(tmp_path)
    make_hf_cache(hf_hub, "acme/cached", files, V1)
    assert run_cli(["record", "acme/cached", "-q"]) == 0
    assert _watch(capsys, "acme/cached")[0] == 0
    changed = LICENSE_TEXT.replace("more than 5 million", "more than 9 million")
    make_hf_cache(hf_hub, "acme/cached", {**files, "LICENSE": changed.encode()}, V2)
    code, doc = _watch(capsys, "acme/cached")
    assert code == 1 and doc["models"][0]["via"] == "cache"
    assert doc["models"][0]["current_revision"] == V2


def test_unreachable_and_unknown(hub, tmp_path, monkeypatch, capsys):  # noqa: F811
    hub.repo("acme/example").commit(V1, _files(tmp_path))
    assert run_cli(["record", "hf://acme/example", "-q"]) == 0
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    code, doc = _watch(capsys)
    assert code == 1 and doc["models"][0]["status"] == "unchecked"
    assert [f["code"] for f in doc["findings"]] == ["MC190"]
    assert "cannot reach" in doc["findings"][0]["message"]
    capsys.readouterr()
    assert run_cli(["watch", "acme/never-recorded"]) == 2
    err = capsys.readouterr().err
    assert "no record" in err and "Traceback" not in err


@pytest.mark.parametrize("where", ["folder"])
def test_local_folder_record_is_not_watchable(tmp_path, capsys, where):
    root = write_release(tmp_path / "plain")
    assert run_cli(["record", str(root), "-q"]) == 0
    code, doc = _watch(capsys)
    assert code == 1 and doc["models"][0]["status"] == "unchecked"


def test_a_record_of_a_tag_follows_the_tag_not_main(hub, tmp_path, capsys):  # noqa: F811
    repo = hub.repo("acme/tagged")
    old = _files(tmp_path)
    repo.commit(V1, old)
    repo.refs["v1.0"] = V1
    assert run_cli(["record", "hf://acme/tagged@v1.0", "-q"]) == 0
    # main moves on; the tag the team cleared does not
    changed = LICENSE_TEXT.replace("more than 5 million", "more than 1 million")
    repo.commit(V2, {**old, "LICENSE": changed.encode()})
    code, doc = _watch(capsys, "hf://acme/tagged")
    [m] = doc["models"]
    assert (code, m["status"], m["followed_ref"], m["current_revision"]) == (
        0, "unchanged", "v1.0", V1)
    # the publisher moves the tag: now it is news, named with the ref
    repo.refs["v1.0"] = V2
    code, doc = _watch(capsys, "hf://acme/tagged")
    [m] = doc["models"]
    assert (code, m["status"], m["followed_ref"], m["current_revision"]) == (
        1, "changed", "v1.0", V2)
    [mc188] = [f for f in doc["findings"] if f["code"] == "MC188"]
    assert "v1.0 is at a new revision" in mc188["message"] and mc188["ref"] == "v1.0"


def test_a_record_of_main_follows_main(hub, tmp_path, capsys):  # noqa: F811
    repo = hub.repo("acme/plain")
    repo.commit(V1, _files(tmp_path))
    assert run_cli(["record", "hf://acme/plain", "-q"]) == 0
    code, doc = _watch(capsys, "hf://acme/plain")
    assert (code, doc["models"][0]["followed_ref"]) == (0, "main")


def test_a_cached_tag_is_followed_in_the_cache(hf_hub, tmp_path, capsys):
    files = _files(tmp_path)
    make_hf_cache(hf_hub, "acme/cachetag", files, V1, refs=("v2",))
    make_hf_cache(hf_hub, "acme/cachetag", files, V2, refs=("main",))
    assert run_cli(["record", "acme/cachetag@v2", "-q"]) == 0
    code, doc = _watch(capsys, "acme/cachetag")
    [m] = doc["models"]
    # main is at another commit, but the recorded snapshot's tag has not moved
    assert (code, m["followed_ref"], m["current_revision"]) == (0, "v2", V1)


def test_a_record_of_a_short_commit_follows_main(hub, tmp_path, capsys):  # noqa: F811
    repo = hub.repo("acme/pinned")
    old = _files(tmp_path)
    repo.commit(V1, old)
    repo.refs[V1[:7]] = V1  # the loopback hub resolves a short hash as a ref
    assert run_cli(["record", f"hf://acme/pinned@{V1[:7]}", "-q"]) == 0
    repo.commit(V2, {**old, "LICENSE": b"changed\n"})
    code, doc = _watch(capsys, "hf://acme/pinned")
    [m] = doc["models"]
    assert (code, m["followed_ref"], m["current_revision"]) == (1, "main", V2)
