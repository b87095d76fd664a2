"""Evidence line numbers count ``\\n`` only, as grep and editors do."""

from modelclear.analyzers.license.extract import extract_terms
from modelclear.analyzers.license.normalize import lines_of
from modelclear.analyzers.license.segment import segment

TEXT = (
    "MODEL LICENSE\n"
    "Definitions.\u2028 More definitions.\x0c\n"
    "\n"
    "This agreement is governed by the laws of the State of Delaware.\n"
)


def test_lines_of_splits_on_newline_only():
    assert lines_of(TEXT) == TEXT.split("\n")[:-1]
    assert "".join(lines_of(TEXT, keepends=True)) == TEXT
    assert lines_of("a\nb") == ["a", "b"]


def test_evidence_after_a_line_separator_keeps_the_file_line():
    law = extract_terms(TEXT, "LICENSE")["governing_law"]
    assert law.evidence is not None and law.evidence.line_start == 4
    assert segment(TEXT)[-1].line_end == 4
