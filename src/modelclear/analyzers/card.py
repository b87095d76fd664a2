"""The model card (README.md): front matter through ``huggingface_hub.ModelCard``, plus
line numbers so every card-derived claim can point at its line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..findings import Finding, finding
from ..release import Release, ReleaseFile

CARD_NAMES = ("README.md", "MODEL_CARD.md", "model_card.md")
FENCE_RE = re.compile(r"^\s*(```|~~~)")
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class Heading:
    level: int
    title: str
    line: int


@dataclass(frozen=True)
class Card:
    file: str
    text: str
    front_matter: dict[str, Any]
    headings: tuple[Heading, ...]
    body_start: int  # first line after the front matter
    findings: tuple[Finding, ...] = field(default=())

    def _get(self, key: str) -> Any:
        return self.front_matter.get(key)

    @property
    def license(self) -> str | None:
        v = self._get("license")
        return ",".join(map(str, v)) if isinstance(v, list) else (str(v) if v else None)

    @property
    def license_name(self) -> str | None:
        v = self._get("license_name")
        return str(v) if v else None

    @property
    def license_link(self) -> str | None:
        v = self._get("license_link")
        return str(v) if v else None

    def _tuple(self, key: str) -> tuple[str, ...]:
        v = self._get(key)
        if v is None:
            return ()
        return tuple(str(x) for x in v) if isinstance(v, list) else (str(v),)

    @property
    def base_model(self) -> tuple[str, ...]:
        return self._tuple("base_model")

    @property
    def base_model_relation(self) -> str | None:
        v = self._get("base_model_relation")
        return str(v) if v else None

    @property
    def datasets(self) -> tuple[str, ...]:
        return self._tuple("datasets")

    @property
    def language(self) -> tuple[str, ...]:
        return self._tuple("language")

    @property
    def tags(self) -> tuple[str, ...]:
        return self._tuple("tags")

    @property
    def pipeline_tag(self) -> str | None:
        v = self._get("pipeline_tag")
        return str(v) if v else None

    @property
    def library_name(self) -> str | None:
        v = self._get("library_name")
        return str(v) if v else None

    @property
    def gated(self) -> dict[str, Any]:
        return {k: v for k, v in self.front_matter.items() if k.startswith("extra_gated")}

    def line_of(self, key: str) -> int | None:
        """Line (1-based) of a top-level front-matter key."""
        pat = re.compile(rf"^{re.escape(key)}\s*:")
        for i, line in enumerate(self.text.splitlines()[: self.body_start], start=1):
            if pat.match(line):
                return i
        return None

    def section(self, title_regex: str) -> tuple[int, str] | None:
        """The first section whose heading matches: (first line number, its text)."""
        lines = self.text.splitlines()
        rx = re.compile(title_regex, re.I)
        for i, h in enumerate(self.headings):
            if rx.search(h.title):
                end = next(
                    (n.line - 1 for n in self.headings[i + 1 :] if n.level <= h.level),
                    len(lines),
                )
                return h.line, "\n".join(lines[h.line - 1 : end])
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "license": self.license,
            "license_name": self.license_name,
            "license_link": self.license_link,
            "base_model": list(self.base_model),
            "base_model_relation": self.base_model_relation,
            "datasets": list(self.datasets),
            "language": list(self.language),
            "tags": list(self.tags),
            "pipeline_tag": self.pipeline_tag,
            "library_name": self.library_name,
            "gated": self.gated,
            "headings": [{"level": h.level, "title": h.title, "line": h.line}
                         for h in self.headings],
        }


def find_card(release: Release) -> ReleaseFile | None:
    for name in CARD_NAMES:
        f = release.get(name)
        if f is not None:
            return f
    return None


def parse_card(text: str, file: str) -> Card:
    from huggingface_hub import ModelCard

    findings: list[Finding] = []
    front: dict[str, Any] = {}
    lines = text.splitlines()
    body_start = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i, ln in enumerate(lines[1:], 1) if ln.strip() == "---"), None)
        if end is not None:
            body_start = end + 1
            try:
                card_data = ModelCard(text, ignore_metadata_errors=True).data
                # huggingface_hub leaves to_dict unannotated
                data = card_data.to_dict()  # type: ignore[no-untyped-call]
                front = data if isinstance(data, dict) else {}
            except Exception as exc:  # noqa: BLE001 - any YAML error is the card's problem
                problem = " ".join(str(exc).split())[:200]
                findings.append(
                    finding("MC105", f"front matter does not parse: {problem}", file=file, line=1)
                )
    headings: list[Heading] = []
    in_fence = False
    for i, line in enumerate(lines[body_start:], start=body_start + 1):
        if FENCE_RE.match(line):
            in_fence = not in_fence
            continue
        m = None if in_fence else HEADING_RE.match(line)
        if m:
            headings.append(Heading(len(m[1]), m[2], i))
    return Card(file, text, front, tuple(headings), body_start, tuple(findings))


def analyze(release: Release) -> Card | None:
    f = find_card(release)
    if f is None:
        return None
    return parse_card(f.read_text(), f.path)
