"""Rebuild ``src/modelclear/data/licenses/fingerprints.json`` from real license texts.

The project holds no license texts: this script reads them where they live and
writes only hashes (design.md "License catalog without license texts").

Sources:
- the shared corpus (``../shared/corpus/licenses`` beside the repo, or ``--corpus``):
  every catalog entry's ``corpus_ids`` name its texts through ``manifest.jsonl``;
- optionally the npm package ``spdx-license-list`` (full SPDX texts), for entries
  with ``standard_text``: ``npm pack spdx-license-list && tar xzf spdx-license-list-*.tgz``
  then ``--spdx package/``. Without ``--spdx`` the SPDX variants already in the
  fingerprint file are kept.

Usage: python tools/build_fingerprints.py [--corpus DIR] [--spdx DIR] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from modelclear.analyzers.license.catalog import (  # noqa: E402
    load_catalog_from,
    sources_digest,
)
from modelclear.analyzers.license.fingerprint import FORMAT, K, fingerprint  # noqa: E402
from modelclear.analyzers.license.normalize import words  # noqa: E402

DATA = ROOT / "src" / "modelclear" / "data" / "licenses"
OUT = DATA / "fingerprints.json"


def _spdx_text(spdx_dir: Path, key: str) -> str | None:
    one = spdx_dir / "licenses" / f"{key}.json"
    text: object = None
    if one.is_file():
        text = json.loads(one.read_text(encoding="utf-8")).get("licenseText")
    elif (full := spdx_dir / "spdx-full.json").is_file():
        text = json.loads(full.read_text(encoding="utf-8")).get(key, {}).get("licenseText")
    return text if isinstance(text, str) else None


def build(corpus: Path | None, spdx: Path | None) -> dict[str, object]:
    catalog = load_catalog_from(DATA, with_fingerprints=False, use_bundle=False)
    previous: dict[str, list[dict[str, object]]] = {}
    if OUT.is_file():
        old = json.loads(OUT.read_text(encoding="utf-8"))
        if old.get("format") == FORMAT and old.get("k") == K:
            previous = old.get("entries", {})  # hashes of another format are useless
    manifest: dict[str, dict[str, object]] = {}
    if corpus is not None:
        for line in (corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                doc = json.loads(line)
                manifest[doc["id"]] = doc
    entries: dict[str, list[dict[str, object]]] = {}
    for entry in catalog.entries:
        variants: list[dict[str, object]] = []
        seen: set[str] = set()

        def add(
            source: str,
            text: str,
            entry_id: str = entry.id,
            variants: list[dict[str, object]] = variants,
            seen: set[str] = seen,
        ) -> None:
            fp = fingerprint(entry_id, source, words(text))
            if fp.sha256 not in seen:
                seen.add(fp.sha256)
                variants.append(fp.to_json())

        for cid in entry.corpus_ids:
            if corpus is None:
                variants.extend(
                    v for v in previous.get(entry.id, []) if v["source"] == f"corpus:{cid}"
                )
                continue
            doc = manifest.get(cid)
            if doc is None:
                raise SystemExit(f"{entry.id}: corpus id {cid} not in manifest.jsonl")
            add(f"corpus:{cid}", (corpus / str(doc["file"])).read_text(encoding="utf-8"))
        if entry.standard_text:
            text = _spdx_text(spdx, entry.standard_text) if spdx is not None else None
            if text:
                add(f"spdx:{entry.standard_text}", text)
            else:
                variants.extend(
                    v
                    for v in previous.get(entry.id, [])
                    if str(v["source"]).startswith("spdx:") and v["sha256"] not in seen
                )
        if variants:
            entries[entry.id] = variants
    raw = [(p.name, p.read_bytes()) for p in sorted(DATA.glob("*.toml"))]
    return {
        "format": FORMAT,
        "k": K,
        "entries": entries,
        # the validated entries, so a cold load need not parse sixty TOML files
        "catalog": {
            "sources_sha256": sources_digest(raw),
            "entries": [e.bundle_json() for e in catalog.entries],
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_corpus = ROOT.parent / "shared" / "corpus" / "licenses"
    parser.add_argument(
        "--corpus", type=Path, default=default_corpus if default_corpus.is_dir() else None
    )
    parser.add_argument(
        "--spdx", type=Path, default=None, help="extracted spdx-license-list package"
    )
    parser.add_argument("--check", action="store_true", help="fail if the committed file is stale")
    args = parser.parse_args()
    data = build(args.corpus, args.spdx)
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.is_file() else ""
        if current != text:
            print(f"{OUT} is stale; rerun tools/build_fingerprints.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    entries = data["entries"]
    assert isinstance(entries, dict)
    n = sum(len(v) for v in entries.values())
    print(f"wrote {OUT.relative_to(ROOT)}: {len(entries)} licenses, {n} texts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
