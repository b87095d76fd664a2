"""Catalog versus file: the file's own clause decides every stated fact.

A catalog entry is our reading of one known text. A file that matches it closely
can still say something else in the clause that matters — "State of Oregon"
for "State of California", "35 million" for "100 million" — and one changed
word looks to the identifier like a misspelling. So before a catalog term is
reported for a file, its *facts* (the numbers and proper names it states) are
checked against the file in both directions:

- every fact of the catalog's value that is a word of the known text must be
  in the analysed document (else the file no longer says it);
- every proper name or number of the extractor's reading of the file's clause
  must be one the known text uses or the catalog states (else the file says
  something the known text does not).

When either fails the extractor's reading (cut from the file, with its evidence)
replaces the catalog's, and the difference is recorded for an MC213 finding.
"""

from __future__ import annotations

from typing import NamedTuple

from .fingerprint import word_hash
from .lazy import LazyPattern
from .model import Term
from .normalize import word_list

#: terms whose value states facts (numbers, places, names) a file can change
FACTUAL: tuple[str, ...] = (
    "mau_threshold",
    "other_scale_threshold",
    "governing_law",
    "derivative_naming_requirement",
    "territory_restriction",
    "attribution_required",
)

_CAPITALISED = LazyPattern(r"(?<![\w'’])[A-Z][\w'’.-]*")
_QUOTED = LazyPattern(r"[\"“'‘]([^\"”'’]{2,80})[\"”'’]")


class Facts(NamedTuple):
    """The numbers and proper-name words a term value states."""

    numbers: frozenset[int]
    names: frozenset[str]


def quantities_of(text: str) -> dict[int, str]:
    """Quantities a clause turns on (thresholds, amounts: 1,000 and above, not years),
    each with its first spelling in ``text``.

    The number reader (and its ~50 patterns) is imported on first use: a verbatim
    catalogued text is reconciled without it."""
    from .numbers import find_quantities

    out: dict[int, str] = {}
    for q in find_quantities(text.lower()):
        if q.value < 1000 or (q.unit == "number" and 1900 <= q.value <= 2100):
            continue
        out.setdefault(q.value, q.text)
    return out


def numbers_of(text: str) -> frozenset[int]:
    return frozenset(quantities_of(text))


def names_of(text: str) -> frozenset[str]:
    """Comparable words of the capitalised and quoted parts of a value."""
    parts = [m.group() for m in _CAPITALISED.finditer(text)]
    parts += [m.group(1) for m in _QUOTED.finditer(text)]
    out: set[str] = set()
    for p in parts:
        out.update(w for w in word_list(p) if not w.isdigit())
    return frozenset(out)


def facts_of(term: Term) -> Facts:
    said = " ".join(str(p) for p in (term.value, term.detail) if p is not None)
    nums = set(numbers_of(said))
    if isinstance(term.value, int):
        nums.add(term.value)
    return Facts(frozenset(nums), names_of(said))


class Known(NamedTuple):
    """What the analysed document and the known text contain, for fact checks."""

    document_words: frozenset[str]
    document_numbers: dict[int, str]  # value -> how the document first writes it
    vocab: frozenset[int]  # word hashes of the known text (empty: no fingerprint)
    words: tuple[int, int]  # the document's word range in the file


class Why(NamedTuple):
    """Why a catalog value does not hold, and a phrase of the file that shows it."""

    reason: str
    at: str | None = None  # a word or number as the file writes it, to quote its sentence


def difference(name: str, catalog: Term, file: Term, known: Known) -> Why | None:
    """Why the catalog's value of ``name`` does not hold for this file, or None."""
    if name not in FACTUAL:
        return None
    cat = facts_of(catalog)
    ours = facts_of(file)
    # the file's clause states a number the catalog does not
    new = sorted(ours.numbers - cat.numbers)
    if new and (cat.numbers or name == "mau_threshold"):
        return Why(
            f"the file states {', '.join(f'{n:,}' for n in new)}",
            known.document_numbers.get(new[0]),
        )
    # the catalog states a number the document never states
    gone = sorted(cat.numbers - set(known.document_numbers))
    if gone:
        return Why(f"the file does not state {', '.join(f'{n:,}' for n in gone)}")
    if known.vocab:
        from .locate import _close  # on first need: its patterns cost every process

        # a name in the file's clause the known text never uses (and not a typo of one)
        novel = sorted(
            w
            for w in ours.names
            if w in known.document_words
            and word_hash(w) not in known.vocab
            and not any(_close(w, c) for c in cat.names)
        )
        if novel:
            return Why(f"the file names {', '.join(novel)}", novel[0])
        # a name of the known text that the catalog relies on and the file lacks
        lost = sorted(
            w
            for w in cat.names
            if word_hash(w) in known.vocab and w not in known.document_words
        )
        if lost:
            return Why(f"the file does not name {', '.join(lost)}")
    return None


def shown(term: Term) -> str | int | None:
    """A term's value for a difference report (with its detail when the value is a flag)."""
    if term.value in ("yes", "no") and term.detail:
        return f"{term.value}: {term.detail}"
    return term.value
