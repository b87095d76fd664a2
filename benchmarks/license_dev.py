"""Development-set scores for the license engine, one column per half of the set.

The development set (``../shared/corpus/licenses-dev``, unlabelled upstream) is split
once by a fixed rule (``license_dev_split.json``); our labels, in the shared corpus's
schema with short quotes only, are in ``license_dev_labels.jsonl`` (a document of the
held-out half is labelled only when the half is scored, at the end). Per half:

- permissive errors: commercial use, output use or fine-tuning reported more
  permissive than the label (the go/no-go terms a clearance must not get wrong);
- partial matches reported as the primary license;
- single documents split into several license documents;
- term accuracy (the corpus README's scoring);
- confident wrong ids: an id with confidence >= 0.9 that the label does not accept.

Usage: python benchmarks/license_dev.py [--dev DIR]   (also printed by license_bench.py)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from modelclear.analyzers.license.model import LicenseMatch, LicenseReport, Term
from modelclear.analyzers.license.text import analyze_text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from license_bench import SCORED, field_correct  # noqa: E402  (a sibling script)

DEFAULT_DEV = HERE.parents[1] / "shared" / "corpus" / "licenses-dev"
SPLIT = HERE / "license_dev_split.json"
LABELS = HERE / "license_dev_labels.jsonl"

#: how permissive each value is (higher = more permissive); unknown values rank lowest
_RANK: dict[str, dict[Any, int]] = {
    "commercial_use": {"no": 0, "unclear": 0, None: 0, "conditional": 1, "yes": 2},
    "fine_tuning_allowed": {"no": 0, "unclear": 0, None: 0, "conditional": 1, "yes": 2},
    "use_outputs_to_train_other_models": {
        "prohibited": 0, "unclear": 0, "restricted": 1, "unmentioned": 2, "allowed": 2,
    },
}


def load_labels() -> dict[str, dict[str, Any]]:
    if not LABELS.is_file():
        return {}
    rows = [json.loads(x) for x in LABELS.read_text("utf-8").splitlines() if x.strip()]
    return {r["id"]: r for r in rows}


def _main_match(report: LicenseReport) -> LicenseMatch | None:
    prim = report.primary()
    if prim is not None:
        return prim
    pool = [m for m in report.licenses if m.kind != "acceptable-use-policy"] or list(
        report.licenses
    )
    return max(pool, key=lambda m: m.line_end - m.line_start) if pool else None


def score_doc(label: dict[str, Any], text: str) -> dict[str, Any]:
    """One document against its label."""
    report = analyze_text(text, label["file"])
    m = _main_match(report)
    terms: dict[str, Term] = dict(m.terms) if m is not None else {}
    right = total = 0
    misses: list[tuple[str, Any, Any]] = []
    permissive: list[tuple[str, Any, Any]] = []
    for name in SCORED:
        if name not in label["labels"]:
            continue
        want = label["labels"][name].get("value")
        got = terms[name].value if name in terms else None
        ok = field_correct(name, want, got)
        right += ok
        total += 1
        if not ok:
            misses.append((name, want, got))
        rank = _RANK.get(name)
        if rank is not None and rank.get(got, 0) > rank.get(want, 0):
            permissive.append((name, want, got))
    accepted = set(label.get("expected_ids", ()))
    confident_wrong = [
        (x.id, x.confidence)
        for x in report.licenses
        if x.confidence >= 0.9 and x.id not in accepted and x.match != "unknown"
    ]
    licenses = [x for x in report.licenses if x.kind in ("license", "unknown")]
    prim = report.primary()
    return {
        "right": right,
        "total": total,
        "misses": misses,
        "permissive": permissive,
        # a fragment of a known text must not govern; a declaration or a reference with
        # no text at all (``from_declaration``, ``reference``) is what the release names
        "partial_primary": int(
            prim is not None and prim.match == "partial"
            and not (prim.from_declaration or prim.reference)
        ),
        # a notices file that reproduces several component licenses is labelled so
        "split": int(len(licenses) > 1 and not label.get("several_documents")),
        "confident_wrong": confident_wrong,
    }


def score_half(dev: Path, ids: list[str], labels: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "documents": 0, "labelled": 0, "right": 0, "total": 0, "permissive": [],
        "partial_primary": 0, "split": 0, "confident_wrong": [], "misses": [],
    }
    for doc_id in ids:
        out["documents"] += 1
        label = labels.get(doc_id)
        path = _path(dev, label) if label is not None else None
        if label is None or path is None or not path.is_file():
            continue
        s = score_doc(label, path.read_text("utf-8"))
        out["labelled"] += 1
        for k in ("right", "total", "partial_primary", "split"):
            out[k] += s[k]
        out["permissive"] += [(doc_id, *p) for p in s["permissive"]]
        out["confident_wrong"] += [(doc_id, *c) for c in s["confident_wrong"]]
        out["misses"] += [(doc_id, *x) for x in s["misses"]]
    out["accuracy"] = out["right"] / out["total"] if out["total"] else None
    return out


def _path(dev: Path, label: dict[str, Any]) -> Path:
    """A labelled text: in the development folder, or in a sibling (``folder``) of it."""
    folder = label.get("folder")
    return (dev.parent / folder if folder else dev) / label["file"]


#: report columns: the two halves (first set plus both widenings) and the newest
#: widening's held-out part alone, split before it was read and never scored before
#: its labels were committed (the fresh figure)
HALVES = ("tune", "held_out", "fresh")


def split_ids(split: dict[str, Any]) -> dict[str, list[str]]:
    """Document ids per report column; each widening adds its own ``<name>_tune`` /
    ``<name>_held_out`` keys so the rule that made every part stays on record."""
    widenings = ("extra", "fresh")
    return {
        "tune": split["tune"] + [i for w in widenings for i in split.get(f"{w}_tune", [])],
        "held_out": split["held_out"]
        + [i for w in widenings for i in split.get(f"{w}_held_out", [])],
        "fresh": list(split.get("fresh_held_out", [])),
    }


def run(dev: Path = DEFAULT_DEV) -> dict[str, Any] | None:
    if not (dev / "sources.jsonl").is_file() or not SPLIT.is_file():
        return None
    split = json.loads(SPLIT.read_text("utf-8"))
    labels = load_labels()
    ids = split_ids(split)
    return {half: score_half(dev, ids[half], labels) for half in HALVES}


def report(r: dict[str, Any] | None) -> str:
    if r is None:
        return "development set: not available (../shared/corpus/licenses-dev)"
    rows = [
        ("documents (labelled)", lambda h: f"{h['documents']} ({h['labelled']})"),
        ("term accuracy", lambda h: "-" if h["accuracy"] is None else
         f"{h['right']}/{h['total']} = {h['accuracy']:.1%}"),
        ("permissive errors (commercial/outputs/fine-tuning)", lambda h: str(len(h["permissive"]))),
        ("partial match as primary", lambda h: str(h["partial_primary"])),
        ("single document split", lambda h: str(h["split"])),
        ("confident (>=0.9) wrong id", lambda h: str(len(h["confident_wrong"]))),
    ]
    width = max(len(r[0]) for r in rows)
    out = ["development set (benchmarks/license_dev_split.json):",
           f"  {'':{width}}  {'tune':>16}  {'held-out':>16}  {'of which fresh':>16}"]
    for title, fn in rows:
        out.append(
            f"  {title:{width}}  {fn(r['tune']):>16}  {fn(r['held_out']):>16}  {fn(r['fresh']):>16}"
        )
    for half in ("tune", "held_out"):
        for p in r[half]["permissive"]:
            out.append(f"  {half} permissive: {p}")
        for c in r[half]["confident_wrong"]:
            out.append(f"  {half} confident wrong id: {c}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dev", type=Path, default=DEFAULT_DEV)
    ap.add_argument("--misses", action="store_true", help="list every wrong term")
    args = ap.parse_args(argv)
    r = run(args.dev)
    print(report(r))
    if r is not None and args.misses:
        for half in ("tune", "held_out"):
            for miss in r[half]["misses"]:
                print(f"  {half} miss: {miss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
