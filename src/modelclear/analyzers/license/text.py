"""Reading one license text: identify its documents, then its terms with evidence.

The text decides (design.md). A catalog match tells us what each clause means and
where to find it, but every reported value must be one the analysed file states:
catalog terms are kept only when their clause is located in the file and their
facts (numbers, places, names) are the file's (``reconcile``); otherwise, and
wherever the file departs from the catalog version (``modified``/``partial``) or
matches nothing (``unknown``), the extractor's reading of the file is reported,
and a fact that differs from the catalog's is recorded for an MC213 finding.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from typing import Any

from .anchors import Locator
from .bilingual import split_versions
from .catalog import Catalog, Entry, load_catalog
from .fingerprint import word_hash
from .identify import UNKNOWN_ID, identify
from .model import (
    TERM_NAMES,
    Evidence,
    LanguageDifference,
    LicenseMatch,
    LicenseReport,
    Term,
    TermDifference,
)
from .normalize import lines_of, word_list, words
from .reconcile import Known, Why, difference, quantities_of, shown
from .reference import names_itself, pointers, referenced_terms, whole_quote


def _extract(
    text: str, file: str, lines: tuple[int, int]
) -> tuple[dict[str, Term], tuple[LanguageDifference, ...]]:
    """The extractor's reading of one document of a file (both versions when bilingual).

    The extractor (and its clause detectors' patterns) is imported here, on first use: a
    folder of verbatim catalogued texts never runs it, and skips its import cost."""
    from .extract import read_terms

    try:
        terms, diffs = read_terms(text, file, lines=lines)
    except ValueError:
        return {n: Term() for n in TERM_NAMES}, ()
    return terms, tuple(diffs)


def _catalog_terms(
    entry: Entry, m: LicenseMatch, loc: Locator, lines_new: set[int]
) -> tuple[dict[str, Term], list[str]]:
    """Catalog terms with evidence found in the file; names of terms whose clause changed."""
    lo, hi = loc.word_range(m.line_start, m.line_end)
    out: dict[str, Term] = {}
    changed: list[str] = []
    for name in TERM_NAMES:
        ct = entry.terms.get(name)
        if ct is None:
            out[name] = Term()
            continue
        term = ct.as_term()
        if ct.anchor:
            ev = loc.find(ct.anchor, lo, hi)
            if ev is None:
                changed.append(name)
            else:
                term = replace(term, evidence=ev)
                if any(line in lines_new for line in range(ev.line_start, ev.line_end + 1)):
                    changed.append(name)
        out[name] = term
    return out, changed


def _merge_departed(
    m: LicenseMatch,
    entry: Entry,
    terms: dict[str, Term],
    changed: list[str],
    extracted: dict[str, Term],
    new_lines: set[int],
) -> set[str]:
    """The file departs from the catalog text: read it, and trust the text where they differ.

    Updates ``terms`` in place; returns the names of the terms whose clause changed.
    """
    changed_set = set(changed)

    def in_new(t: Term) -> bool:
        ev = t.evidence
        return ev is not None and any(
            line in new_lines for line in range(ev.line_start, ev.line_end + 1)
        )

    for name in TERM_NAMES:
        ex = extracted.get(name, Term())
        ct = entry.terms.get(name)
        if ct is None:
            # the catalog does not record it: the file is the only source
            if ex.value is not None:
                terms[name] = ex
            continue
        if name in changed_set:
            if (m.match == "modified" and in_new(ex)) or (
                ex.evidence is not None and terms[name].evidence is None and m.match != "exact"
            ):
                terms[name] = ex
        elif m.match == "modified" and ex.value != ct.value and in_new(ex):
            # a new sentence states this term differently: a changed clause
            changed_set.add(name)
            terms[name] = ex
    if m.match == "exact":
        changed_set = set()  # misspellings only: no clause changed
    if m.match == "partial":
        # only part of the text (or only its name) is known: what the file itself says,
        # with a line to show for it, beats a summary we cannot evidence
        for name in TERM_NAMES:
            ex = extracted.get(name, Term())
            if terms[name].evidence is None and ex.evidence is not None:
                terms[name] = ex
    return changed_set


_SILENT = (None, "no", "unmentioned")

#: how permissive a value is, per go/no-go term (higher = more permissive)
_PERMISSIVE: dict[str, dict[object, int]] = {
    "commercial_use": {"no": 0, "unclear": 0, "conditional": 1, "yes": 2},
    "fine_tuning_allowed": {"no": 0, "unclear": 0, "conditional": 1, "yes": 2},
    "use_outputs_to_train_other_models": {
        "prohibited": 0, "unclear": 0, "restricted": 1, "unmentioned": 2, "allowed": 2,
    },
}
#: restrictions the catalog may not record but a clause of the file states
_RESTRICTIONS = ("territory_restriction", "competing_service_restriction")


def _stricter(name: str, catalog: Term, file: Term) -> Term | None:
    """The file's reading when it restricts more than the catalog's (restrictions beat
    grants), quoting the catalog's clause beside it; else None."""
    if file.evidence is None:
        return None
    rank = _PERMISSIVE.get(name)
    if rank is not None:
        if rank.get(file.value, 2) >= rank.get(catalog.value, 0):
            return None
    elif not (name in _RESTRICTIONS and catalog.value is None and file.value is not None):
        return None
    if catalog.evidence is not None:
        also = f"the license also says: \u201c{catalog.evidence.quote}\u201d"
        detail = f"{file.detail}; {also}" if file.detail else also
        return replace(file, detail=detail)
    return file


def _reconcile(
    entry: Entry, terms: dict[str, Term], extracted: dict[str, Term], known: Known, loc: Locator
) -> list[TermDifference]:
    """Let the file decide every catalog term (module ``reconcile``); updates ``terms``.

    A catalog value whose clause is not in the file, or whose facts the file does
    not state, gives way to the extractor's reading of the file. A term the file
    already decided (an edited clause) is still compared, so the difference shows.
    """
    out: list[TermDifference] = []
    for name in TERM_NAMES:
        ct = entry.terms.get(name)
        if ct is None:
            continue
        t, ex = terms[name], extracted.get(name, Term())
        catalog = ct.as_term()
        if t.source == "catalog" and (strict := _stricter(name, t, ex)) is not None:
            # the same text read more strictly: no difference from the known version
            terms[name] = strict
            continue
        if t.source == "catalog" and t.evidence is None:
            if t.value in _SILENT and ex.value == t.value:
                terms[name] = ex  # the same silence, read from the file
                continue
            if t.value in _SILENT:
                continue
            terms[name] = ex  # a catalog value standing in for a clause the file lacks
            if shown(ex) != shown(catalog):
                why: Why | None = Why("the catalog's clause is not in the file")
            else:
                continue
        else:
            why = difference(name, catalog, ex if t.source == "catalog" else t, known)
            if why is None:
                continue
            if t.source == "catalog":
                terms[name] = ex
        final = terms[name]
        ev = loc.find(why.at, *known.words) if why and why.at else None
        out.append(
            TermDifference(
                term=name,
                catalog=shown(catalog),
                file=shown(final),
                why=why.reason if why else "",
                evidence=ev or final.evidence,
            )
        )
    return out


def _known(m: LicenseMatch, loc: Locator, cat: Catalog) -> Known:
    """The document's words and numbers, and the known text's vocabulary."""
    lo, hi = loc.word_range(m.line_start, m.line_end)
    doc_words = frozenset(loc.ws.words[lo : hi + 1])
    body = loc.text[loc.ws.starts[lo] : loc.ws.ends[hi]] if loc.ws.words else ""
    vocab: frozenset[int] = frozenset().union(
        *(fp.vocab for fp in cat.fingerprints if fp.license_id == m.id)
    )
    return Known(doc_words, quantities_of(body), vocab, (lo, hi))


_COPYRIGHT = re.compile(r"copyright|\(c\)|©", re.IGNORECASE)
#: lines at the head of a document where it names itself (title, licensor, software)
_HEAD_LINES = 12


def _own_names(m: LicenseMatch, loc: Locator, known: Known) -> list[str]:
    """Names the document gives itself that the known text never uses.

    A research template re-issued by another publisher ("The aiXcoder Model License",
    "the YaYi Model Team") is that publisher's license, not a modified copy of the
    template's first user, whatever the word overlap.
    """
    if m.match != "modified" or not known.vocab:
        return []
    head = "\n".join(
        line
        for line in lines_of(loc.text)[m.line_start - 1 : m.line_start - 1 + _HEAD_LINES]
        if not _COPYRIGHT.search(line)  # filled-in copyright lines are not the known text
    )
    if names_itself(m.title, head):
        return []  # the known text keeps its own name: words were added around it
    out: list[str] = []
    for raw in re.findall(r"[^\W_]*[A-Z][^\W_]*", head):
        for w in word_list(raw):
            if len(w) >= 3 and not w.isdigit() and word_hash(w) not in known.vocab:
                out.append(raw)
    return list(dict.fromkeys(out))


def _not_claimed(
    m: LicenseMatch, entry: Entry, extracted: dict[str, Term], renamed: list[str], text: str
) -> LicenseMatch:
    """A partial or renamed match: the id is not claimed and no stored term is used.

    The known license is only a hint (``closest``); every term is the file's own.
    """
    if renamed:
        hint = f"{entry.title} ({entry.id}); the file names {', '.join(renamed[:5])} instead"
        return replace(
            m,
            id=UNKNOWN_ID,
            title=_doc_title(m, text) or "Unrecognised license text",
            match="unknown",
            confidence=0.0,
            closest=hint,
            publisher=None,
            publisher_country=None,
            osi_approved=False,
            incorporates=(),
            terms=extracted,
        )
    hint = f"{entry.title} ({entry.id}); only part of its text is in the file"
    return replace(m, terms=extracted, closest=hint)


def _doc_title(m: LicenseMatch, text: str) -> str | None:
    """The document's own title: its first line when that reads as a title."""
    from .segment import title_of  # on first need, as below

    for line in lines_of(text)[m.line_start - 1 : m.line_end]:
        if line.strip():
            return title_of(line) or _zh_title(line)
    return None


@cache
def _zh_title_pattern() -> re.Pattern[str]:
    """Compiled on first use: ``re`` builds this class one code point at a time (~3 ms)."""
    return re.compile(r"[\u3400-\u9fff].*(?:协议|许可|条款|声明)")


def _zh_title(line: str) -> str | None:
    """A Chinese first line naming an agreement ("bilibili Index-1.9B 模型许可协议")."""
    bare = line.strip().lstrip("#").strip().replace("*", "")
    return bare if len(bare) <= 60 and _zh_title_pattern().search(bare) else None


def _own_title(m: LicenseMatch, text: str) -> str:
    """An unknown text's title, read from the document when it has one."""
    if m.match != "unknown" or m.title != "Unrecognised license text":
        return m.title
    return _doc_title(m, text) or m.title


def _terms_for(
    m: LicenseMatch, cat: Catalog, text: str, loc: Locator, use_catalog: bool
) -> LicenseMatch:
    lines = (m.line_start, m.line_end)
    entry = cat.get(m.id)
    if entry is None or not use_catalog or m.match == "unknown":
        terms, langs = _extract(text, m.file, lines)
        return replace(m, terms=terms, language_differences=langs, title=_own_title(m, text))
    fast = _same_text(m, entry, text, loc)
    if fast is not None:
        return fast
    new_lines: set[int] = set()
    for quote in m.diff:
        ev = loc.find(quote, *loc.word_range(*lines))
        if ev is not None:
            new_lines.update(range(ev.line_start, ev.line_end + 1))
    extracted, langs = _extract(text, m.file, lines)
    m = replace(m, language_differences=langs)
    known = _known(m, loc, cat)
    renamed = _own_names(m, loc, known)
    if m.match == "partial" or renamed:
        return _not_claimed(m, entry, extracted, renamed, text)
    terms, changed = _catalog_terms(entry, m, loc, new_lines)
    changed_set: set[str] = set()
    if not (m.match == "exact" and m.confidence >= 1.0):
        changed_set = _merge_departed(m, entry, terms, changed, extracted, new_lines)
    diffs = _reconcile(entry, terms, extracted, known, loc)
    changed_set.update(d.term for d in diffs)
    update: dict[str, Any] = {
        "terms": terms,
        "changed_terms": tuple(n for n in TERM_NAMES if n in changed_set),
        "term_differences": tuple(diffs),
    }
    if diffs and m.match == "exact":
        # a clause states other facts than the known text: not that text, whatever
        # the identifier took for a misspelling
        update.update(match="modified", confidence=min(m.confidence, 0.8))
    return replace(m, **update)


def _same_text(m: LicenseMatch, entry: Entry, text: str, loc: Locator) -> LicenseMatch | None:
    """The catalogued text itself, word for word: its hand-checked terms with evidence.

    The fast path (no extractor run): the words are those the entry's terms were
    checked against, so no fact can differ, and ``tests/test_license_fast_path.py``
    checks that the extractor never reads these texts more strictly than the catalog.
    It does not vouch, and returns None, when any clause is not located, or when the
    document is bilingual (each language version must still be read on its own).
    """
    if m.match != "exact" or m.confidence < 1.0:
        return None
    terms, changed = _catalog_terms(entry, m, loc, set())
    if changed:
        return None
    if any(t.evidence is None and t.value not in _SILENT for t in terms.values()):
        return None
    body = "".join(lines_of(text, keepends=True)[m.line_start - 1 : m.line_end])
    langs: list[LanguageDifference] = []
    if split_versions(body) is not None:
        if not entry.bilingual:
            return None  # versions never compared for this entry: read them
        lo, hi = loc.word_range(m.line_start, m.line_end)
        for d in entry.language_differences:
            en = loc.find(d.english_anchor, lo, hi) if d.english_anchor else None
            zh = loc.find(d.chinese_anchor, lo, hi) if d.chinese_anchor else None
            if (d.english_anchor and en is None) or (d.chinese_anchor and zh is None):
                return None
            langs.append(
                LanguageDifference(
                    term=d.term, english=d.english, chinese=d.chinese, reported=d.reported,
                    english_evidence=en, chinese_evidence=zh,
                )
            )
    att = terms.get("attribution_required")
    if att is not None and att.value == "yes" and att.detail is None and att.evidence is not None:
        notice = _required_notice(text, att.evidence)
        if notice is not None:
            terms["attribution_required"] = replace(att, detail=notice)
    # a silence (no clause: None, "no", "unmentioned") is the text's, not the catalog's:
    # the full reading reports it as read from the file, and so does this path
    for name, t in terms.items():
        if t.evidence is None:
            terms[name] = Term(value=t.value, source="extracted" if t.value is not None else "none")
    return replace(m, terms=terms, language_differences=tuple(langs))


_NOTICE_INTRO = re.compile(r"notice\s*:\s*([\"“])", re.IGNORECASE)


def _required_notice(text: str, ev: Evidence) -> str | None:
    """The notice a clause asks to ship ("… contains the following notice: "…""), whole."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    at = starts[min(ev.line_start, len(starts)) - 1]
    seg = text[at : at + 3000]
    m = _NOTICE_INTRO.search(seg)
    span = whole_quote(seg, m.start(1)) if m else None
    return " ".join(seg[span[0] : span[1]].split()) if span else None


def analyze_text(
    text: str, file: str, catalog: Catalog | None = None, use_catalog: bool = True
) -> LicenseReport:
    """Identify and read the license documents of one text (a LICENSE file's content).

    ``use_catalog=False`` reads every document with the extractor alone — how an
    unknown license is read, and what the benchmark measures as pure extraction.
    """
    cat = catalog if catalog is not None else load_catalog()
    ws = words(text)
    loc = Locator(text, file, ws)
    if use_catalog:
        found = identify(text, file, cat, ws)
    else:
        found = _segments_unknown(text, file)
    out = [_terms_for(m, cat, text, loc, use_catalog) for m in found]
    if use_catalog:
        out = _with_references(out, text, file, cat, len(ws))
        out = _pointing_segments(out, text, file, cat)
    return LicenseReport(licenses=tuple(out))


#: a document this short that names a license is a notice pointing at it
_NOTICE_WORDS = 600


def _with_references(
    out: list[LicenseMatch], text: str, file: str, cat: Catalog, n_words: int
) -> list[LicenseMatch]:
    """Documents that name a license: references (``reference``), or their silences
    filled from the named license (an unknown notice beside its Apache header)."""
    if any(m.match != "unknown" for m in out) or n_words > _NOTICE_WORDS:
        return out
    found = pointers(text, file, cat)
    if not found:
        return out
    first = found[0]
    ids = tuple(dict.fromkeys(e.id for p in found for e in p.entries))
    named = referenced_terms(first.entries, first.evidence)
    if not out:
        entry = first.entries[0] if len(first.entries) == 1 else max(
            first.entries, key=lambda e: e.date or ""
        )
        ev = first.evidence
        return [
            LicenseMatch(
                id=entry.id, title=first.title, kind="license", match="partial",
                confidence=0.3 if len(first.entries) == 1 else 0.2, file=file,
                line_start=ev.line_start, line_end=ev.line_end, publisher=entry.publisher,
                publisher_country=entry.publisher_country, osi_approved=entry.osi_approved,
                incorporates=tuple(i.as_model() for i in entry.incorporates), terms=named,
                reference=True, references=ids,
                closest=first.hint,
            )
        ]
    filled: list[LicenseMatch] = []
    for m in out:
        terms = dict(m.terms)
        for name, t in named.items():
            mine = terms.get(name, Term())
            if t.value not in _SILENT and mine.evidence is None and mine.value in _SILENT:
                terms[name] = t  # the notice is silent; the license it names is not
        filled.append(replace(m, terms=terms, references=ids))
    return filled


def _pointing_segments(
    out: list[LicenseMatch], text: str, file: str, cat: Catalog
) -> list[LicenseMatch]:
    """A part of a longer file that is known only by a license's name, and that names it
    in a "licensed under …" sentence, points at that license: it is a reference too.

    A third-party notices file opens with the model's own line ("X is licensed under
    the TENCENT HUNYUAN COMMUNITY LICENSE AGREEMENT") and then reproduces component
    licenses; what that paragraph says (a definition listing "fine-tuning enabling
    code") is not the named license's terms. A part matched on the license's own text
    (``diff``, ``missing_sentences``) is a text, not a reference, even when it holds a
    notice naming itself.
    """
    if not any(_named_only(m) for m in out):
        return out
    found = pointers(text, file, cat)
    res: list[LicenseMatch] = []
    for m in out:
        inside = [
            p for p in found
            if m.line_start <= p.evidence.line_start <= m.line_end
            and m.id in {e.id for e in p.entries}
        ]
        if not _named_only(m) or not inside:
            res.append(m)
            continue
        first = inside[0]
        res.append(replace(
            m, terms=referenced_terms(first.entries, first.evidence), reference=True,
            references=tuple(dict.fromkeys(e.id for p in inside for e in p.entries)),
            confidence=0.3 if len(first.entries) == 1 else 0.2,
            title=first.title, closest=first.hint,
        ))
    return res


def _named_only(m: LicenseMatch) -> bool:
    """Identified by its name alone: no sentence of the license's text was matched."""
    return m.match == "partial" and not (m.reference or m.diff or m.missing_sentences)


def _segments_unknown(text: str, file: str) -> list[LicenseMatch]:
    # the segmenter's patterns are compiled on first use: a folder of catalogued texts
    # never splits a text into documents
    from .segment import segment

    segs = segment(text)
    out: list[LicenseMatch] = []
    for s in segs:
        kind = s.kind if s.kind in ("license", "acceptable-use-policy", "notice") else "unknown"
        out.append(
            LicenseMatch(
                id=UNKNOWN_ID,
                title=s.title or "Unrecognised license text",
                kind=kind,
                match="unknown",
                confidence=0.0,
                file=file,
                line_start=s.line_start,
                line_end=s.line_end,
            )
        )
    if not out and text.strip():
        n = len(lines_of(text)) or 1
        out.append(
            LicenseMatch(
                id=UNKNOWN_ID,
                title="Unrecognised license text",
                kind="unknown",
                match="unknown",
                confidence=0.0,
                file=file,
                line_start=1,
                line_end=n,
            )
        )
    return out
