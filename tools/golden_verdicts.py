"""Write or check the golden verdict matrix: every license text × every built-in profile.

The matrix (``tests/golden/verdicts.json``) pins, for each text and profile, the
verdict and the codes of the checks that decided it. It was reviewed once by
reading the clauses; any change to a verdict then shows up as a diff to review,
not as a silent drift. The texts are the shared corpus (``manifest.jsonl``) and the
standard GPL-3.0, AGPL-3.0 and CC BY-SA 4.0 texts from the npm package
``spdx-license-list`` (the same texts ``build_fingerprints.py --spdx`` reads):
``npm pack spdx-license-list && tar xzf spdx-license-list-*.tgz`` then
``--spdx package/`` or ``MODELCLEAR_SPDX_DIR=package``.

Usage: python tools/golden_verdicts.py [--corpus DIR] [--spdx DIR] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from modelclear.analyzers.policy import Status, load_profile
from modelclear.pipeline import run_license_file

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "verdicts.json"
CORPUS = ROOT.parent / "shared" / "corpus" / "licenses"
PROFILES = ("prototype", "internal-tool", "customer-saas", "distillation", "regulated-onprem")
STANDARD = ("GPL-3.0-only", "AGPL-3.0-only", "CC-BY-SA-4.0")


def corpus_texts(corpus: Path) -> Iterator[tuple[str, Path]]:
    for line in (corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            doc = json.loads(line)
            yield str(doc["id"]), corpus / str(doc["file"])


def standard_texts(spdx: Path, into: Path) -> Iterator[tuple[str, Path]]:
    """The SPDX JSON files hold the text in ``licenseText``; the analyzer reads files."""
    for key in STANDARD:
        text = json.loads((spdx / "licenses" / f"{key}.json").read_text(encoding="utf-8"))
        path = into / f"{key}.txt"
        path.write_text(str(text["licenseText"]), encoding="utf-8")
        yield f"spdx:{key}", path


def row(path: Path, profile: str) -> dict[str, object]:
    result = run_license_file(str(path), load_profile(profile))
    if result.policy is None:
        raise SystemExit(f"{path}: no verdict ({result.analyzers})")
    deciding = sorted(f"{c.code}:{c.status.value}" for c in result.policy.counted()
                      if c.status is not Status.CLEAR)
    return {"verdict": result.policy.verdict.value, "because": deciding}


def matrix(corpus: Path | None, spdx: Path | None) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        texts = list(corpus_texts(corpus)) if corpus else []
        texts += list(standard_texts(spdx, Path(tmp))) if spdx else []
        for doc_id, path in texts:
            out[doc_id] = {profile: row(path, profile) for profile in PROFILES}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    spdx_env = os.environ.get("MODELCLEAR_SPDX_DIR")
    ap.add_argument("--spdx", type=Path, default=Path(spdx_env) if spdx_env else None)
    ap.add_argument("--write", action="store_true", help="rewrite the golden file")
    args = ap.parse_args()
    found = matrix(args.corpus if args.corpus.is_dir() else None, args.spdx)
    if args.write:
        GOLDEN.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {GOLDEN} ({len(found)} texts × {len(PROFILES)} profiles)")
        return 0
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    diff = [f"{d} / {p}: golden {golden.get(d, {}).get(p)} now {found[d][p]}"
            for d in found for p in PROFILES if golden.get(d, {}).get(p) != found[d][p]]
    print("\n".join(diff) or "matrix unchanged")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
