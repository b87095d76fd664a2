"""Drift: what differs between a release now and the record it was cleared under.

Files are compared by sha256 through the hash cache, so a file whose (path, size,
mtime, inode) did not change is not read again; only touched files cost I/O. License
documents are compared against the full texts the record kept: a unified diff of the
text, and the terms that changed — found by analysing both texts with the license
analyzer installed now, so a catalog update between record and verify cannot pass
for a license change.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..analyzers.inventory import component_of
from ..config import Config
from ..errors import InputError
from ..findings import Finding, Severity, finding
from ..progress import SILENT, ProgressSink
from ..release import Release
from ..schemas import VERSIONS
from .builder import MAX_DOCUMENT_BYTES, check_names
from .model import Record

if TYPE_CHECKING:
    from ..analyzers.card import Card
    from ..analyzers.license.model import LicenseMatch, LicenseReport

#: The unified diff of one document is cut after this many lines (the texts stay whole
#: in the record; the diff is for reading).
MAX_DIFF_LINES = 400
CARD_FIELDS = ("license", "license_name", "license_link", "base_model")
FAIL_ON = ("info", "low", "medium", "high", "critical", "never")


@dataclass(frozen=True)
class FileChange:
    path: str
    status: str  # added | removed | changed
    old_sha256: str | None
    new_sha256: str | None
    old_size: int | None
    new_size: int | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TermChange:
    term: str
    old: str | int | None  # a term's value, or "<license id> (<match>)" for "license"
    new: str | int | None
    quote: str | None = None  # the current clause, when the analyzer located it
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class DocumentChange:
    path: str
    kind: str
    status: str  # changed | removed | added
    diff: tuple[str, ...] = ()
    diff_truncated: bool = False
    terms: tuple[TermChange, ...] = ()
    terms_compared: bool = False
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path, "kind": self.kind, "status": self.status,
            "diff": list(self.diff), "diff_truncated": self.diff_truncated,
            "terms_compared": self.terms_compared,
            "terms": [t.to_json() for t in self.terms], "note": self.note,
        }


@dataclass(frozen=True)
class CardChange:
    field: str
    old: Any
    new: Any
    line: int | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RevisionState:
    recorded: str | None
    current: str | None
    newer_in_cache: tuple[str, ...] = ()  # commit hashes newer than the recorded one
    refs: dict[str, str] = field(default_factory=dict)  # ref → commit, from the cache

    def to_json(self) -> dict[str, Any]:
        return {"recorded": self.recorded, "current": self.current,
                "newer_in_cache": list(self.newer_in_cache), "refs": dict(self.refs)}


@dataclass(frozen=True)
class DriftReport:
    record_id: str
    record_created_at: str
    model_id: str | None
    files: tuple[FileChange, ...]
    documents: tuple[DocumentChange, ...]
    card: tuple[CardChange, ...]
    revision: RevisionState
    findings: tuple[Finding, ...]
    files_checked: int
    files_read: int | None  # files actually read to hash them (cache misses)
    ignored: tuple[str, ...] = ()  # codes of findings dropped by configuration

    def with_config(self, config: Config) -> DriftReport:
        """The engine's configuration rule, plus the list of what it dropped (verify
        says which drift it was told to ignore, so a silenced change is still visible)."""
        from ..engine import configure_findings

        ignored = tuple(f.code for f in self.findings if config.ignores(f.code))
        return dataclasses.replace(self, findings=configure_findings(self.findings, config),
                                   ignored=self.ignored + ignored)

    @property
    def drifted(self) -> bool:
        return bool(self.findings)

    def fails(self, fail_on: str) -> bool:
        if fail_on == "never":
            return False
        floor = Severity(fail_on).rank
        return any(f.severity.rank >= floor for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": VERSIONS["verify"],
            "record_id": self.record_id,
            "record_created_at": self.record_created_at,
            "model_id": self.model_id,
            "drifted": self.drifted,
            "files_checked": self.files_checked,
            "files_read": self.files_read,
            "files": [c.to_json() for c in self.files],
            "documents": [d.to_json() for d in self.documents],
            "card": [c.to_json() for c in self.card],
            "revision": self.revision.to_json(),
            "findings": [f.to_json() for f in self.findings],
            "ignored": list(self.ignored),
        }


def _cache_misses(release: Release) -> int | None:
    """How many files hashing will actually read (None if the cache can't be asked)."""
    try:
        from ..hashing import HashCache

        cache = HashCache()
    except Exception:  # noqa: BLE001 - the count is informative only
        return None
    try:
        return sum(1 for f in release.files if cache.get(f) is None)
    finally:
        cache.close()


def _compare_files(record: Record, release: Release, hashes: dict[str, str]) -> list[FileChange]:
    old = record.files
    now = {f.path: f for f in release.files}
    out: list[FileChange] = []
    for path in sorted(old.keys() | now.keys()):
        o, n = old.get(path), now.get(path)
        if n is None:
            if o is not None:  # always: the path came from one of the two sides
                out.append(FileChange(path, "removed", o["sha256"], None, o["size"], None))
        elif o is None:
            out.append(FileChange(path, "added", None, hashes[path], None, n.size))
        elif o["sha256"] != hashes[path]:
            out.append(FileChange(path, "changed", o["sha256"], hashes[path], o["size"], n.size))
    return out


def _analyze_text(text: str, path: str) -> LicenseReport:
    from ..analyzers.license.analyze import analyze_text

    return analyze_text(text, path)


def _main_match(report: LicenseReport | None) -> LicenseMatch | None:
    if report is None or not report.licenses:
        return None
    return next((m for m in report.licenses if m.kind != "unknown"), report.licenses[0])


def _term_changes(old_text: str, new_text: str, path: str) -> list[TermChange]:
    old_m = _main_match(_analyze_text(old_text, path))
    new_m = _main_match(_analyze_text(new_text, path))
    out: list[TermChange] = []
    if old_m is None and new_m is None:
        return out
    if (old_m.id if old_m else None) != (new_m.id if new_m else None) or (
        old_m is not None and new_m is not None and old_m.match != new_m.match
    ):
        out.append(TermChange(
            "license",
            f"{old_m.id} ({old_m.match})" if old_m else None,
            f"{new_m.id} ({new_m.match})" if new_m else None,
        ))
    old_terms = old_m.terms if old_m else {}
    new_terms = new_m.terms if new_m else {}
    newly_changed = set(new_m.changed_terms if new_m else ()) - set(
        old_m.changed_terms if old_m else ()
    )
    for name in sorted(old_terms.keys() | new_terms.keys()):
        o, n = old_terms.get(name), new_terms.get(name)
        ov = (o.value, o.detail) if o else (None, None)
        nv = (n.value, n.detail) if n else (None, None)
        if ov != nv or name in newly_changed:
            ev = n.evidence if n is not None and n.evidence is not None else None
            out.append(TermChange(
                name, ov[0], nv[0],
                quote=ev.quote if ev else None, line=ev.line_start if ev else None,
            ))
    return out


def _compare_documents(record: Record, release: Release,
                       hashes: dict[str, str]) -> list[DocumentChange]:
    out: list[DocumentChange] = []
    for doc in record.documents:
        f = release.get(doc["path"])
        if f is None:
            out.append(DocumentChange(doc["path"], doc["kind"], "removed"))
            continue
        if hashes[f.path] == doc["sha256"]:
            continue
        if doc["text"] is None:
            out.append(DocumentChange(
                doc["path"], doc["kind"], "changed",
                note=f"no diff: the record kept only the hash ({doc['text_omitted']})",
            ))
            continue
        if f.size > MAX_DOCUMENT_BYTES:
            out.append(DocumentChange(
                doc["path"], doc["kind"], "changed",
                note=f"no diff: the file is now {f.size} bytes, more than a record keeps",
            ))
            continue
        try:
            new_text = f.read_bytes(MAX_DOCUMENT_BYTES).decode("utf-8")
        except UnicodeDecodeError as exc:
            out.append(DocumentChange(
                doc["path"], doc["kind"], "changed",
                note=f"no diff: the file is no longer valid UTF-8 (byte {exc.start})",
            ))
            continue
        diff = list(difflib.unified_diff(
            doc["text"].splitlines(), new_text.splitlines(),
            fromfile=f"recorded/{doc['path']}", tofile=f"now/{doc['path']}", lineterm="", n=2,
        ))
        note = None
        try:
            terms, compared = _term_changes(doc["text"], new_text, doc["path"]), True
        except Exception as exc:  # noqa: BLE001 - the diff stands without the term analysis
            terms, compared = [], False
            note = f"terms not compared: license analyzer failed ({type(exc).__name__}: {exc})"
        out.append(DocumentChange(
            doc["path"], doc["kind"], "changed",
            diff=tuple(diff[:MAX_DIFF_LINES]), diff_truncated=len(diff) > MAX_DIFF_LINES,
            terms=tuple(terms), terms_compared=compared, note=note[:300] if note else None,
        ))
    out += _added_documents(record, release)
    return out


def _added_documents(record: Record, release: Release) -> list[DocumentChange]:
    """License-type files the record does not have: a new NOTICE or LICENSE changes what
    governs use even when no recorded file changed."""
    known = {d["path"] for d in record.documents}
    out: list[DocumentChange] = []
    for f in release.files:
        kind = component_of(f.path)
        if kind not in ("license", "notice", "acceptable-use-policy") or f.path in known:
            continue
        note = None
        try:
            report = _analyze_text(f.read_text(MAX_DOCUMENT_BYTES), f.path)
        except InputError as exc:
            report, note = None, f"not read: {exc.problem}"
        except Exception as exc:  # noqa: BLE001 - an analyzer bug must not hide the file
            report, note = None, f"not identified: {type(exc).__name__}: {exc}"[:300]
        m = _main_match(report)
        if m is not None:
            note = f"identified as {m.id} ({m.match})"
        out.append(DocumentChange(f.path, kind, "added", note=note))
    return out


def _card_fields(card: Card) -> dict[str, str | list[str] | None]:
    """The card values a record keeps, in the record's JSON shapes (lists, not tuples)."""
    return {
        "license": card.license,
        "license_name": card.license_name,
        "license_link": card.license_link,
        "base_model": list(card.base_model),
    }


def _compare_card(record: Record, release: Release) -> list[CardChange]:
    old = record.data.get("card")
    if record.data["analyses"]["card"]["status"] not in ("analysed", "absent"):
        return []  # the card was not read at record time: nothing to compare with
    from ..analyzers import card as card_mod

    try:
        card = card_mod.analyze(release)
    except InputError as exc:  # an unreadable card is drift to report, not a failed verify
        return [CardChange("card", "readable", f"unreadable: {exc.problem}", None)]
    out: list[CardChange] = []
    now = _card_fields(card) if card else {}
    for name in CARD_FIELDS:
        ov = old.get(name) if old else None
        nv = now.get(name)
        if ov in ([], None) and nv in ([], None):
            continue
        if ov != nv:
            out.append(CardChange(name, ov, nv, card.line_of(name) if card else None))
    return out


def _revision_state(record: Record, release: Release) -> RevisionState:
    recorded, current = record.revision, release.source.revision
    model_id = record.model_id
    if not recorded or not model_id or "/" not in model_id:
        return RevisionState(recorded, current)
    try:
        from huggingface_hub import scan_cache_dir

        from ..sources.hfcache import cache_dir

        info = scan_cache_dir(cache_dir())
    except Exception:  # noqa: BLE001 - no cache, unreadable cache: nothing to say
        return RevisionState(recorded, current)
    repo = next((r for r in info.repos if r.repo_type == "model" and r.repo_id == model_id), None)
    if repo is None:
        return RevisionState(recorded, current)
    refs = {ref: r.commit_hash for r in repo.revisions for ref in r.refs}
    base = next((r for r in repo.revisions if r.commit_hash == recorded), None)
    newer = {
        r.commit_hash for r in repo.revisions
        if r.commit_hash != recorded and (base is None or r.last_modified > base.last_modified)
    }
    # A ref that moved away from the recorded commit means the hub published a newer one.
    newer |= {c for ref, c in refs.items() if ref == "main" and c != recorded}
    return RevisionState(recorded, current, tuple(sorted(newer)), refs)


def _findings(files: list[FileChange], docs: list[DocumentChange], card: list[CardChange],
              rev: RevisionState) -> list[Finding]:
    out: list[Finding] = []
    if rev.recorded and rev.current and rev.recorded != rev.current:
        out.append(finding("MC187", f"recorded revision {rev.recorded}, verifying {rev.current}",
                           recorded=rev.recorded, current=rev.current))
    for c in files:
        if c.status == "changed":
            out.append(finding(
                "MC180", f"{c.path}: sha256 {c.old_sha256} → {c.new_sha256}"
                f" (size {c.old_size} → {c.new_size})", file=c.path,
            ))
        elif c.status == "added":
            out.append(finding("MC181", f"{c.path}: new file ({c.new_size} bytes)", file=c.path))
        else:
            out.append(finding("MC182", f"{c.path}: no longer in the release", file=c.path))
    for d in docs:
        if d.status != "changed":
            continue
        added = sum(1 for ln in d.diff if ln.startswith("+") and not ln.startswith("+++"))
        removed = sum(1 for ln in d.diff if ln.startswith("-") and not ln.startswith("---"))
        first = next((ln[1:] for ln in d.diff if ln.startswith("+") and not
                      ln.startswith("+++")), None)
        out.append(finding(
            "MC183", f"{d.path} ({d.kind}) text changed: {removed} line(s) removed, "
            f"{added} added" + (f"; {d.note}" if d.note else ""), file=d.path,
            quote=first.strip()[:300] if first else None,
        ))
        for t in d.terms:
            out.append(finding(
                "MC184", f"{d.path}: {t.term} was {t.old!r}, now {t.new!r}",
                file=d.path, line=t.line, quote=t.quote, term=t.term,
            ))
    for cc in card:
        out.append(finding("MC185", f"card {cc.field} was {cc.old!r}, now {cc.new!r}",
                           line=cc.line, field=cc.field))
    others = [c for c in rev.newer_in_cache if c != rev.current]
    if others:
        moved = [ref for ref, c in rev.refs.items() if c in others]
        out.append(finding(
            "MC186", f"newer revision(s) in the cache than recorded {rev.recorded}: "
            + ", ".join(others) + (f" (refs: {', '.join(sorted(moved))})" if moved else ""),
            revisions=others,
        ))
    return out


def verify(
    release: Release,
    record: Record,
    *,
    progress: ProgressSink = SILENT,
    use_cache: bool = True,
) -> DriftReport:
    """Compare ``release`` as it is now with ``record``."""
    from ..hashing import hash_files

    check_names(release)
    misses = _cache_misses(release) if use_cache else len(release.files)
    hashes = hash_files(release.files, progress, use_cache=use_cache)
    return compare(release, record, hashes, files_read=misses)


def compare(release: Release, record: Record, hashes: dict[str, str], *,
            files_read: int | None = None, cache_revisions: bool = True) -> DriftReport:
    """The drift of ``release`` (its files' ``hashes`` given) from ``record``: what
    ``verify`` reports, and what ``watch`` reports for a new revision on the hub, whose
    weights' hashes are the ones the hub declares."""
    files = _compare_files(record, release, hashes)
    docs = _compare_documents(record, release, hashes)
    card = _compare_card(record, release)
    rev = (_revision_state(record, release) if cache_revisions
           else RevisionState(record.revision, release.source.revision))
    return DriftReport(
        record_id=record.id,
        record_created_at=record.created_at,
        model_id=record.model_id,
        files=tuple(files),
        documents=tuple(docs),
        card=tuple(card),
        revision=rev,
        findings=tuple(_findings(files, docs, card, rev)),
        files_checked=len(release.files),
        files_read=files_read,
    )
