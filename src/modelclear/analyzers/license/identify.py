"""Which known license texts a file holds, where, and how faithfully.

We wrote our own matcher instead of calling a general license scanner because
model licenses need what those tools do not give: discrimination between close
versions (Llama 3.2 vs 3.3 differ in a few words), a verdict that separates a
faithful copy from an edited one (``modified``, with the file's new sentences),
several documents per file (code license + model license + use policy), and no
license texts shipped (we only hold fingerprints).

Method: every K-word shingle of the file is looked up in the catalog's
fingerprints. The best-scoring fingerprint claims the densest run of the file it
matches (a maximum-sum segment, so an inserted clause stays inside the region but
a stray shared phrase elsewhere does not); the region is then classified against
that fingerprint and its close versions, and the process repeats on the rest of
the file. What no fingerprint claims is reported as an ``unknown`` document when
it reads like license text.

Verdicts never overstate: ``exact`` is the same word stream (layout, markup,
quotes and filled-in copyright lines aside) or one that differs only by
misspellings — words that the known text never uses; any other edit, even one
word such as "not", makes it ``modified``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from itertools import accumulate, compress
from operator import gt, not_, sub
from typing import TYPE_CHECKING, Any, NamedTuple

from .catalog import Catalog, Entry, load_catalog
from .fingerprint import Fingerprint, K, shingles, text_sha256, word_hash
from .lazy import LazyPattern
from .model import LicenseMatch
from .normalize import Words, phrase_words, words

if TYPE_CHECKING:
    from .segment import Segment

#: fewest shared shingles for a fingerprint to be considered at all
MIN_HITS = 12
#: fewest words for an unclaimed stretch to be reported as an unknown document
MIN_UNKNOWN_WORDS = 40
#: a misspelling-only copy may differ in at most this share of its words
MAX_TYPO_SHARE = 0.03
#: most license documents looked for in one file (a NOTICE file may list dozens)
MAX_DOCUMENTS = 48
UNKNOWN_ID = "LicenseRef-modelclear-unknown"
#: a modified match's confidence stays below "confident" (0.9)
MAX_MODIFIED_CONFIDENCE = 0.89
_LICENSEY = LazyPattern(
    r"\b(licen[cs]e[ds]?|licensor|licensee|permission|warrant(y|ies)|liabilit(y|ies)|"
    r"copyright|agreement|terms|redistribut\w*|commercial|prohibited|restrict\w*|"
    # Chinese: one ideograph is one word, so the words are spaced
    r"许 可|协 议|授 权|版 权|商 业|担 保|责 任)\b"
)


class Region(NamedTuple):
    """A span of the file matched to one fingerprint, with the measurements behind the verdict."""

    fp: Fingerprint
    first_word: int
    last_word: int
    match: str  # exact | modified | partial
    confidence: float
    coverage_catalog: float  # share of the known text found in the region
    coverage_file: float  # share of the region made of the known text
    new_sentences: tuple[tuple[int, int], ...]  # word ranges of the file's new sentences
    missing_sentences: int
    typos: int


def _max_segment(hits: Sequence[bool]) -> tuple[int, int, int]:
    """Densest run of hits: maximum-sum subarray of +1 (hit) / -1 (miss), inclusive bounds.

    Evaluated at the hits only (a file holds thousands of shingles, a candidate often a
    few dozen hits). With ``p_k`` the position of the k-th hit, the prefix sum just
    before it is ``v_k = 2k - p_k``; the best run ending at that hit gains
    ``v_k + 1 - min(v_0..v_k)``, a run can only end at a hit, and the prefix minimum
    before it sits just before a hit. Ties resolve as in the dense form: the first
    best end, and the last position of the minimum as the start (a tight start).
    """
    pos = list(compress(range(len(hits)), hits))
    if not pos:
        return 0, -1, 0
    v = list(map(sub, range(0, 2 * len(pos), 2), pos))
    low = list(accumulate(v, min))
    gain = [x + 1 - lo for x, lo in zip(v, low, strict=True)]
    best = max(gain)
    if best <= 0:
        return 0, -1, 0
    k = gain.index(best)  # the first maximum
    m = low[k]
    first_min = k - v[k::-1].index(m)  # the last hit, up to k, whose prefix is the minimum
    return pos[first_min], pos[k], best


def _fit_window(hits: Sequence[bool], a: int, b: int, length: int) -> tuple[int, int]:
    """Narrow a run much longer than the known text to the best window of its length.

    Two close versions back to back (Yi v1.0 then v2.1, in one NOTICE file) hit the
    same fingerprint throughout; the known text can only be one of them.
    """
    if b - a + 1 <= length * 1.25 + 20:
        return a, b
    seg = hits[a : b + 1]
    csum = list(accumulate(map(int, seg), initial=0))
    sums = list(map(sub, csum[length:], csum))  # hits in each window of `length`
    start = sums.index(max(sums))
    inside = [i for i, h in enumerate(seg[start : start + length]) if h]
    if not inside:
        return a, b
    return a + start + inside[0], a + start + inside[-1]


def _runs(mask: Sequence[bool]) -> list[tuple[int, int]]:
    """Maximal runs of True as (start, end) inclusive (scanned as bytes, in C)."""
    flags = bytes(map(bool, mask))
    out: list[tuple[int, int]] = []
    q = 0
    while (p := flags.find(1, q)) >= 0:
        q = flags.find(0, p)
        if q < 0:
            out.append((p, len(flags) - 1))
            break
        out.append((p, q - 1))
    return out


def _mark(mask: list[bool], a: int, b: int) -> None:
    """Set ``mask[a..b]`` (inclusive, clipped to the mask) to True, keeping its length."""
    lo, hi = max(a, 0), min(b + 1, len(mask))
    if hi > lo:
        mask[lo:hi] = [True] * (hi - lo)


class _File:
    """The analysed text with its shingles, computed once per identification.

    Plain lists and sets rather than arrays: a license file has a few thousand
    shingles, and a set lookup per shingle costs less than importing numpy (~100 ms
    per process, paid again by every ``modelclear license`` run).
    """

    def __init__(self, text: str, ws: Words | None = None) -> None:
        self.ws: Words = ws if ws is not None else words(text)
        self._hits: dict[int, list[bool]] = {}
        self._uniq_cache: dict[tuple[int, int], frozenset[int]] = {}
        self._sent_cache: dict[tuple[int, int], tuple[list[tuple[int, int]], list[int]]] = {}

    @cached_property
    def sh(self) -> list[int]:
        """The file's shingles, computed on first use: a verbatim copy of a known text
        (the common LICENSE file) is recognised by its digest alone and never needs them."""
        return shingles(self.ws)

    @cached_property
    def claimed(self) -> list[bool]:
        """Shingle positions already given to a document."""
        return [False] * len(self.sh)

    def sentences_in(self, wa: int, wb: int) -> tuple[list[tuple[int, int]], list[int]]:
        """Sentences (word ranges clipped to wa..wb, three words or more) and their hashes."""
        key = (wa, wb)
        if key not in self._sent_cache:
            ranges = [
                (max(s, wa), min(e, wb))
                for s, e in self.ws.sentences()
                if e >= wa and s <= wb and min(e, wb) - max(s, wa) >= 2
            ]
            hashes = [word_hash(" ".join(self.ws.words[s : e + 1])) for s, e in ranges]
            self._sent_cache[key] = (ranges, hashes)
        return self._sent_cache[key]

    def hits(self, fp: Fingerprint) -> list[bool]:
        """For every shingle position of the file: is that shingle in ``fp``."""
        key = id(fp)
        if key not in self._hits:
            known = fp.unique
            self._hits[key] = list(map(known.__contains__, self.sh))
        return self._hits[key]

    def unique_in(self, a: int, b: int) -> frozenset[int]:
        """Distinct shingles of shingle range a..b (cached: candidates share it)."""
        key = (a, b)
        if key not in self._uniq_cache:
            self._uniq_cache[key] = frozenset(self.sh[a : b + 1])
        return self._uniq_cache[key]


def _clusters(runs: list[tuple[int, int]]) -> int:
    """Runs closer than K positions apart count as one gap (a phrase repeated elsewhere
    in the file splits one gap into several runs)."""
    n, last = 0, None
    for s, e in runs:
        if last is None or s - last > K:
            n += 1
        last = e
    return n


def _covered(hit: Sequence[bool], n_words: int) -> list[bool]:
    """For each of n_words words: is it inside some hit shingle (hit[i] covers i..i+K-1)."""
    cov = [False] * n_words
    for i, h in enumerate(hit):
        if h:
            _mark(cov, i, i + K - 1)
    return cov


def _classify(f: _File, fp: Fingerprint, a: int, b: int) -> Region | None:
    """Judge shingle range a..b of the file against one fingerprint."""
    if len(f.ws) < K:
        wa, wb = 0, len(f.ws) - 1
    else:
        wa, wb = a, min(b + K - 1, len(f.ws) - 1)
    region_words = f.ws.words[wa : wb + 1]
    if text_sha256(region_words) == fp.sha256:
        return Region(fp, wa, wb, "exact", 1.0, 1.0, 1.0, (), 0, 0)
    uniq_region = f.unique_in(a, b)
    hit = f.hits(fp)[a : b + 1]
    cov_c = len(uniq_region & fp.unique) / max(len(fp.unique), 1)
    cov_f = sum(hit) / len(hit) if hit else 0.0
    sent_ranges, file_sents = f.sentences_in(wa, wb)
    new_sents = tuple(
        r for r, h in zip(sent_ranges, file_sents, strict=True) if h not in fp.sentences
    )
    missing = len(fp.sentences - set(file_sents))
    typo_like = False
    novel_words = 0
    if cov_c >= 0.9:
        # words of the region no known shingle covers: edits (or misspellings)
        cov_words = (
            _covered(hit, wb - wa + 1) if len(f.ws) >= K else [True] * len(region_words)
        )
        novel = _runs([not c for c in cov_words])
        novel_words = sum(e - s + 1 for s, e in novel)
        # stretches of the known text the region lacks
        missing_runs = _runs([s not in uniq_region for s in fp.shingles]) if uniq_region else []
        typo_like = (
            novel_words <= max(1, MAX_TYPO_SHARE * len(region_words))
            and all(s == e for s, e in novel)
            and all(
                not region_words[s].isdigit() and word_hash(region_words[s]) not in fp.vocab
                for s, _ in novel
            )
            # each misspelt word hides the K known shingles around it, no more: a longer
            # gap in the known text is a deletion, which is an edit
            and all(e - s + 1 <= 2 * K for s, e in missing_runs)
            and sum(e - s + 1 for s, e in missing_runs) <= K * (len(novel) + 2)
            # every gap in the known text needs a misspelt word to explain it: a gap
            # without one is a deleted word (say, a deleted "not")
            and _clusters(missing_runs) <= len(novel)
        )
    if typo_like:
        conf = max(0.9, 0.99 - novel_words / max(len(region_words), 1))
        return Region(
            fp, wa, wb, "exact", round(conf, 3), cov_c, cov_f, new_sents, missing, novel_words
        )
    if cov_c >= 0.6 and cov_f >= 0.6:
        # an edited text is not the known version: the id names its closest relative,
        # which on the development set is often another publisher's re-issue of a
        # template, so a modified match never claims 0.9 or more (docs/license.md)
        conf = min(MAX_MODIFIED_CONFIDENCE, 0.5 + 0.45 * min(cov_c, cov_f))
        return Region(fp, wa, wb, "modified", round(conf, 3), cov_c, cov_f, new_sents, missing, 0)
    # a shared boilerplate paragraph (a warranty disclaimer) is not "part of" a license
    if cov_f >= 0.8 and cov_c >= 0.1 and (wb - wa + 1) >= 30:
        conf = 0.3 + 0.3 * cov_c
        return Region(fp, wa, wb, "partial", round(conf, 3), cov_c, cov_f, new_sents, missing, 0)
    return None


def _best_region(f: _File, cat: Catalog) -> Region | None:
    candidates: list[Region] = []
    for _ in range(64):  # bounded: each failed round claims a stretch of the file
        avail = list(compress(f.sh, map(not_, f.claimed)))
        if not avail:
            return None
        counts = cat.shared_counts(avail)
        ranked = sorted(range(len(counts)), key=lambda i: -counts[i])  # stable: catalog order
        order = [i for i in ranked if counts[i] >= MIN_HITS][:8]
        if not order:
            return None
        # each candidate claims its own densest run: a license followed by its policy
        # must not lose to an older version that bundled both in one text
        first: tuple[int, int] | None = None
        for i in order:
            if counts[i] < counts[order[0]] * 0.5:
                continue
            fp = cat.fingerprints[i]
            hits = list(map(gt, f.hits(fp), f.claimed))  # a hit not yet claimed
            a, b, score = _max_segment(hits)
            if score < MIN_HITS // 2:
                continue
            a, b = _fit_window(hits, a, b, len(fp.shingles))
            if first is None:
                first = (a, b)
            r = _classify(f, fp, a, b)
            if r is not None:
                candidates.append(r)
        if first is None:
            return None
        if candidates:
            break
        # nothing fits well: claim the stretch so the next round looks elsewhere
        _mark(f.claimed, first[0], first[1])
    if not candidates:
        return None
    rank = {"exact": 3, "modified": 2, "partial": 1}
    candidates.sort(
        key=lambda r: (rank[r.match], r.confidence, r.coverage_catalog + r.coverage_file),
        reverse=True,
    )
    best = _widest_close(candidates)
    if best.match != "exact" and len(candidates) > 1:
        runner = next((c for c in candidates[1:] if c.fp.license_id != best.fp.license_id), None)
        if (
            runner is not None
            and abs(
                (runner.coverage_catalog + runner.coverage_file)
                - (best.coverage_catalog + best.coverage_file)
            )
            < 0.02
        ):
            # two versions fit equally well: say so through a low confidence
            best = best._replace(confidence=round(min(best.confidence, 0.45), 3))
    _mark(f.claimed, best.first_word, max(best.first_word, best.last_word - K + 1))
    return best


def _widest_close(ranked: list[Region]) -> Region:
    """The best candidate, unless a close copy of a longer known text contains it.

    A license built on another (Kimi K2's modified MIT = MIT + one paragraph) holds
    the other verbatim: one edited word in the added paragraph must not leave the
    verbatim part as an exact MIT and the rest as a fragment — the longer text, as
    a modified copy, explains the whole document.
    """
    best = ranked[0]
    for r in ranked[1:]:
        if (
            r.match == "modified"
            and min(r.coverage_catalog, r.coverage_file) >= 0.9
            and r.first_word <= best.first_word
            and r.last_word >= best.last_word
            and (r.last_word - r.first_word) - (best.last_word - best.first_word) >= 20
        ):
            return r
    return best


def _phrase_entries(cat: Catalog, text_words: str, fingerprinted: set[str]) -> list[Entry]:
    """Entries without a fingerprint whose identifying phrases occur in the text."""
    out: list[tuple[int, Entry]] = []
    padded = f" {text_words} "
    for e in cat.entries:
        if e.id in fingerprinted or not e.phrases:
            continue
        hits = [w for p in e.phrases if f" {' '.join(w := phrase_words(p))} " in padded]
        # one short generic phrase ("hosting use") is not enough to name a license
        if len(hits) >= 2 or any(len(w) >= 3 for w in hits):
            out.append((len(hits), e))
    out.sort(key=lambda t: -t[0])
    best = out[0][0] if out else 0
    return [e for n, e in out if n == best]


def _match(
    entry: Entry | None, file: str, f: _File, wa: int, wb: int, **kw: Any
) -> LicenseMatch:
    ls, le = f.ws.line_span(wa, wb)
    if entry is not None:
        kw = {
            "id": entry.id,
            "title": entry.title,
            "kind": entry.kind,
            "publisher": entry.publisher,
            "publisher_country": entry.publisher_country,
            "osi_approved": entry.osi_approved,
            "incorporates": tuple(i.as_model() for i in entry.incorporates),
            **kw,
        }
    return LicenseMatch(file=file, line_start=ls, line_end=le, **kw)


def identify_regions(
    text: str, catalog: Catalog | None = None, ws: Words | None = None
) -> tuple[_File, list[Region]]:
    """Fingerprint regions of a text, in file order (the engine behind :func:`identify`).

    ``ws`` is the text's words when the caller already has them (read once per text)."""
    cat = catalog if catalog is not None else load_catalog()
    f = _File(text, ws)
    regions: list[Region] = []
    if len(f.ws) == 0 or not cat.fingerprints:
        return f, regions
    whole = cat.by_sha.get(text_sha256(f.ws.words))
    if whole is not None:
        return f, [Region(whole, 0, len(f.ws) - 1, "exact", 1.0, 1.0, 1.0, (), 0, 0)]
    for _ in range(MAX_DOCUMENTS):
        r = _best_region(f, cat)
        if r is None:
            break
        regions.append(r)
    regions.sort(key=lambda r: r.first_word)
    return f, _absorb_adjacent(f, text, regions)


#: unmatched words next to a match that may be a heading or a separator, not an edit
_SLACK_WORDS = 8


def _absorb_adjacent(f: _File, text: str, regions: list[Region]) -> list[Region]:
    """Judge text added before or after a known license as part of it.

    The densest-run region stops where the known text stops, so a clause appended
    at the end (or prepended) would otherwise vanish from the verdict. Unmatched
    words in the same document (same segment: no title or separator rule between)
    are pulled into the region and the region is judged again.
    """
    if not regions:
        return regions
    segs: list[Segment] | None = None
    out: list[Region] = []
    for n, r in enumerate(regions):
        floor = regions[n - 1].last_word + 1 if n else 0
        ceil = regions[n + 1].first_word - 1 if n + 1 < len(regions) else len(f.ws) - 1
        if (r.first_word - floor) + (ceil - r.last_word) <= _SLACK_WORDS:
            out.append(r)  # nothing unmatched next to it worth a look
            continue
        if segs is None:
            from .segment import segment  # on first need: its patterns cost every process

            segs = segment(text)
        ls, le = f.ws.line_span(r.first_word, r.last_word)
        over = [s for s in segs if s.line_start <= le and s.line_end >= ls]
        if not over:
            out.append(r)
            continue
        lo_line = min(s.line_start for s in over)
        hi_line = max(s.line_end for s in over)
        wa = r.first_word
        while wa - 1 >= floor and f.ws.line_of(f.ws.starts[wa - 1]) >= lo_line:
            wa -= 1
        wb = r.last_word
        while wb + 1 <= ceil and f.ws.line_of(f.ws.starts[wb + 1]) <= hi_line:
            wb += 1
        if (r.first_word - wa) + (wb - r.last_word) <= _SLACK_WORDS:
            out.append(r)
            continue
        again = _classify(f, r.fp, wa, max(wa, wb - K + 1))
        if again is None or again.match == "exact":
            out.append(r)
        else:
            out.append(
                again._replace(confidence=min(again.confidence, r.confidence))
            )
    return out


def identify(
    text: str, file: str, catalog: Catalog | None = None, ws: Words | None = None
) -> list[LicenseMatch]:
    """Every license document found in ``text``, in file order, without terms.

    ``file`` is only used to label the results. :func:`..analyze.analyze_text`
    adds the terms with their evidence.
    """
    cat = catalog if catalog is not None else load_catalog()
    f, regions = identify_regions(text, cat, ws)
    out: list[tuple[int, LicenseMatch]] = []
    for r in regions:
        entry = cat.get(r.fp.license_id)
        diff = tuple(f.ws.quote(s, e, 300) for s, e in r.new_sentences[:20])
        out.append(
            (
                r.first_word,
                _match(
                    entry,
                    file,
                    f,
                    r.first_word,
                    r.last_word,
                    match=r.match,
                    confidence=r.confidence,
                    diff=diff,
                    missing_sentences=r.missing_sentences,
                ),
            )
        )
    for s, e in _unclaimed(f, regions):
        seg_words = f.ws.words[s : e + 1]
        joined = " ".join(seg_words)
        if len(_LICENSEY.findall(joined)) < 2:
            continue
        fingerprinted = {fp.license_id for fp in cat.fingerprints}
        named = _phrase_entries(cat, joined, fingerprinted)
        if len(named) == 1:
            # no text to compare with: identified by its own name only, never exact
            out.append((s, _match(named[0], file, f, s, e, match="partial", confidence=0.4)))
        else:
            out.append(
                (
                    s,
                    _match(
                        None,
                        file,
                        f,
                        s,
                        e,
                        id=UNKNOWN_ID,
                        title="Unrecognised license text",
                        kind="unknown",
                        match="unknown",
                        confidence=0.0,
                    ),
                )
            )
    out.sort(key=lambda t: t[0])
    return [m for _, m in out]


def _unclaimed(f: _File, regions: list[Region]) -> list[tuple[int, int]]:
    """Word ranges no region covers that are long enough to be a document.

    The gaps between the regions' spans (clipped to the file), found from the spans
    themselves: no mask of one flag per word, which cost every verbatim text ~0.15 ms."""
    return [(s, e) for s, e in _gaps(len(f.ws), regions) if e - s + 1 >= MIN_UNKNOWN_WORDS]


def _gaps(n: int, regions: list[Region]) -> list[tuple[int, int]]:
    """Maximal word ranges of ``0..n-1`` (inclusive) that no region covers, in order."""
    spans = sorted((max(r.first_word, 0), min(r.last_word + 1, n)) for r in regions)
    out: list[tuple[int, int]] = []
    at = 0  # first word not known to be covered
    for lo, hi in spans:
        if hi <= lo:
            continue  # empty once clipped
        if lo > at:
            out.append((at, lo - 1))
        at = max(at, hi)
    if at < n:
        out.append((at, n - 1))
    return out
