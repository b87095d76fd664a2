from __future__ import annotations

from modelclear.analyzers.card import parse_card

CARD = """---
license: llama3.1
base_model: meta-llama/Llama-3.1-8B
datasets: [a/b]
extra_gated_prompt: agree
---
# Title
```
# not a heading
```
## License
Use it well.
## Other
"""


def test_front_matter_lines_and_sections():
    c = parse_card(CARD, "README.md")
    assert c.license == "llama3.1"
    assert c.base_model == ("meta-llama/Llama-3.1-8B",)
    assert c.datasets == ("a/b",)
    assert c.gated == {"extra_gated_prompt": "agree"}
    assert c.line_of("base_model") == 3
    assert [h.title for h in c.headings] == ["Title", "License", "Other"]
    assert c.section("^licen") == (11, "## License\nUse it well.")
    assert not c.findings


def test_broken_front_matter_is_a_finding_not_a_crash():
    c = parse_card("---\nlicense: [oops\n---\n# x\n", "README.md")
    assert c.front_matter == {}
    assert [f.code for f in c.findings] == ["MC105"]
    assert "\n" not in c.findings[0].message
