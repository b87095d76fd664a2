"""Documents that only point at a license: "… is licensed under CC BY-NC 4.0".

A NOTICE, a one-line model license file or an Apache header names a license without
holding its text. Such a document is a *reference*: it is resolved to the license
text the release ships when there is one (and the two must agree), and otherwise it
is reported as "referenced, text absent" — the named license's catalogued terms,
marked ``source: referenced`` and cited at the sentence that names it, never as if
read from a text, and never CLEAR (the match is ``partial``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from .catalog import Catalog, Entry
from .lazy import LazyPattern
from .model import TERM_NAMES, Evidence, Term

#: "licensed under …", "released under the terms of …", "遵循 … 许可"
_POINTER = LazyPattern(
    r"\b(?:licen[cs]ed|released|made available|distributed|provided|published|available)"
    r"\s+under\s+(?:the\s+)?(?:terms\s+(?:and\s+conditions\s+)?of\s+(?:the\s+)?)?"
    r"(?P<name>(?:[^\n.;:]|\.(?=\d)){2,160}?)\s*(?=$|\.(?!\d)|[;:\n]"
    r"|\s+(?:and|which|with|see|at|as|for|except|unless|excluding|but)\b)",
    re.IGNORECASE | re.MULTILINE,
)
_URL = LazyPattern(r"https?://[^\s)>\]\"']+")
_FILLER = frozenset({"the", "version", "v", "license", "licence", "agreement", "public"})
_TOKEN = LazyPattern(r"[a-z0-9]+")
_PAREN = LazyPattern(r"\([^)]*\)")


class Pointer(NamedTuple):
    """A sentence of the file that names a license, and the catalog entries it names."""

    entries: tuple[Entry, ...]
    evidence: Evidence
    #: the license as the document writes it (the name after "licensed under", or a URL)
    name: str

    @property
    def title(self) -> str:
        """What the document names: the catalog's title when the name fits one version,
        else the document's own words, since which version binds is not stated."""
        if len(self.entries) == 1:
            return self.entries[0].title
        return f"{self.name} (version not stated)"

    @property
    def hint(self) -> str:
        """``closest`` for a reference: the catalogued license(s) it names."""
        if len(self.entries) == 1:
            e = self.entries[0]
            return f"{e.title} ({e.id}); the file names it, its text is absent"
        ids = ", ".join(e.id for e in self.entries)
        return f"the file names {self.name} without a version (catalogued: {ids}); " \
            "its text is absent"


def _tokens(s: str) -> tuple[str, ...]:
    return tuple(t for t in _TOKEN.findall(s.lower()) if t not in _FILLER)


def names_itself(title: str, head: str) -> bool:
    """Whether ``head`` carries every distinctive word of a license's ``title``
    ("Apache" of "Apache License 2.0"; "chatglm", "6b" of "The ChatGLM-6B License")."""
    own = [t for t in _tokens(_PAREN.sub(" ", title)) if not t.isdigit()]
    return bool(own) and set(own) <= set(_tokens(head))


@lru_cache(maxsize=8)
def _names(cat: Catalog) -> tuple[tuple[tuple[str, ...], Entry], ...]:
    """Every way the catalog knows to name each license, as filler-free word tuples."""
    out: list[tuple[tuple[str, ...], Entry]] = []
    for e in cat.entries:
        if e.kind != "license":
            continue
        names = {_PAREN.sub(" ", e.title), *e.hub_aliases, *e.hub_license_names}
        if not e.id.startswith("LicenseRef-"):
            names.add(e.id)
        for n in names:
            toks = _tokens(n)
            # one word names a license only when it is an identifier ("MIT"), not a
            # title word ("Apache" alone could be any Apache license)
            if len(toks) >= 2 or (toks and n != e.title):
                out.append((toks, e))
    return tuple(out)


def _contains(hay: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(hay[i : i + n] == needle for i in range(len(hay) - n + 1))


def entries_named(name: str, cat: Catalog) -> tuple[Entry, ...]:
    """Catalog entries a license name denotes: the longest catalogued name it contains.

    Several versions of one family ("Tencent Hunyuan Community License Agreement")
    all come back; the caller treats them as ambiguous.
    """
    toks = _tokens(name)
    best: list[Entry] = []
    best_len = 0
    for known, entry in _names(cat):
        if len(known) < best_len or not _contains(toks, known):
            continue
        if len(known) > best_len:
            best, best_len = [], len(known)
        if entry not in best:
            best.append(entry)
    return tuple(best)


_SENTENCE_END = LazyPattern(r"[.;。；!?！？](?=\s|$)|\n[ \t]*\n")


def _sentence(text: str, file: str, start: int, end: int) -> Evidence:
    """The whole sentence around [start, end): a reference is quoted complete."""
    before = [m.end() for m in _SENTENCE_END.finditer(text, 0, start)]
    a = before[-1] if before else 0
    after = _SENTENCE_END.search(text, end)
    b = after.end() if after else len(text)
    from .locate import evidence_for_span  # on first need: most texts point nowhere

    return evidence_for_span(text, file, a, b)


def pointers(text: str, file: str, cat: Catalog) -> list[Pointer]:
    """Every sentence of ``text`` that names a catalogued license, in file order."""
    out: list[Pointer] = []
    for m in _POINTER.finditer(text):
        found = entries_named(m.group("name"), cat)
        if not found:
            continue
        name = " ".join(m.group("name").split())
        out.append(Pointer(found, _sentence(text, file, m.start(), m.end()), name))
    for m in _URL.finditer(text):
        found = tuple(e for e in cat.resolve_declared(None, None, m.group()) if e.kind == "license")
        seen = {e.id for p in out for e in p.entries}
        if found and not seen & {e.id for e in found}:
            out.append(Pointer(found, _sentence(text, file, m.start(), m.end()), m.group()))
    return out


def referenced_terms(entries: tuple[Entry, ...], ev: Evidence) -> dict[str, Term]:
    """The named license's catalogued terms, marked as referenced and cited at the name.

    When the name fits several versions that say different things, the term is
    ``unclear`` (fail closed): which version binds is not stated.
    """
    out: dict[str, Term] = {}
    title = entries[0].title if len(entries) == 1 else f"{len(entries)} versions of it"
    for name in TERM_NAMES:
        values = {e.terms[name].value if name in e.terms else None for e in entries}
        if len(values) > 1:
            out[name] = Term(
                value="unclear", source="referenced", evidence=ev,
                detail=f"the catalogued versions differ ({', '.join(map(str, values))}); "
                "the document does not say which binds",
            )
            continue
        (value,) = values
        if value is None:
            out[name] = Term()
            continue
        first = entries[0].terms[name]
        if value in _PERMISSIVE.get(name, ()):
            # a grant whose conditions cannot be read is not a grant we can report
            out[name] = Term(
                value="unclear", source="referenced", evidence=ev,
                detail=f"the referenced license ({title}) says {value!r}, but its text is "
                "not in the file: its conditions cannot be read",
            )
            continue
        note = f"from the referenced license ({title}); its text is not in the file"
        detail = f"{first.detail}; {note}" if first.detail else note
        out[name] = Term(value=value, detail=detail, source="referenced", evidence=ev)
    return out


#: permissive values a reference alone never reports (fail closed on an absent text)
_PERMISSIVE: dict[str, frozenset[str]] = {
    # "conditional" is a grant too, on conditions only the absent text states
    "commercial_use": frozenset({"yes", "conditional"}),
    "fine_tuning_allowed": frozenset({"yes", "conditional"}),
    "use_outputs_to_train_other_models": frozenset({"allowed"}),
}


def whole_quote(s: str, start: int, limit: int = 600) -> tuple[int, int] | None:
    """The span inside the quotation opening at ``s[start]``, to its sentence-ending close.

    A required notice may quote a name inside itself ("The trademark rights of
    "Tencent Hunyuan" are owned by Tencent."): the quotation ends at a closing mark
    right after a full stop, not at the first closing mark.
    """
    if start >= len(s) or s[start] not in "\"“":
        return None
    end = min(len(s), start + limit)
    m = re.compile(r"[.!?。](?:[\"”])").search(s, start + 1, end)
    if m:
        return start + 1, m.end() - 1
    close = re.compile(r"[\"”]").search(s, start + 1, end)
    return (start + 1, close.start()) if close else None
