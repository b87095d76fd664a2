"""Compliance documentation (Markdown, HTML) from records."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import test_record_support as support
from test_record_support import LICENSE_TEXT, build_record
from typer.testing import CliRunner

from modelclear.record.model import Record, seal
from modelclear.reports import compliance

isolated = support.isolated
release_dir = support.release_dir

SECTIONS = (
    "1. Model version, download date and license terms",
    "2. Fine-tuning data sources and methodology",
    "3. Deployment configuration and infrastructure",
    "4. Incident response",
    "5. Briefing for legal and compliance",
)


def _with_profile(rec: Record, profile: dict) -> Record:
    data = rec.to_json()
    data["policy"] = {"profile": profile, "overall": "REVIEW",
                      "verdicts": [{"code": "MC500", "name": "user-scale",
                                    "title": "User scale", "status": "REVIEW",
                                    "reason": "2M users exceed the 5M? no: close to it"}],
                      "obligations": [{"code": "MC560", "text": "Display 'Built with Example'",
                                       "applies": True, "condition": "always"}]}
    data["analyses"]["policy"] = {"status": "analysed", "detail": None}
    return Record.load(seal(data))


def test_markdown_without_profile_flags_what_is_missing(release_dir: Path) -> None:
    rec = build_record(release_dir, reviewer="Ann")
    md = compliance.render(rec, "markdown")
    for title in SECTIONS:
        assert f"## {title}" in md
    assert rec.id in md and rec.record_hash in md
    assert "| Reviewer | Ann |" in md
    assert "example/pretraining-mix" in md  # data sources from the card
    assert "Base model(s): example/base-7b" in md
    assert "Fine-tuned on the example instruction mix" in md
    assert "Deployment profile: **not recorded**" in md
    assert "**MISSING: no incident-response contacts.**" in md
    assert "Revision | **not recorded**" in md
    assert rec.data["model"]["retrieved_at"] in md
    # the license text as it was, whole
    assert LICENSE_TEXT.strip() in md
    for f in rec.data["files"]:
        assert f["sha256"] in md


def test_markdown_with_profile_and_contacts(release_dir: Path) -> None:
    profile = {"name": "customer-saas", "description": "SaaS", "use": ["customer-product"],
               "contacts": {"incident_response": "oncall@example.com",
                            "legal": "legal@example.com"},
               "scale": {"monthly_active_users": 2_000_000}}
    rec = _with_profile(build_record(release_dir), profile)
    md = compliance.render(rec, "markdown")
    assert "MISSING: no incident-response contacts" not in md
    assert "| incident_response | oncall@example.com |" in md
    assert "| Profile | customer-saas — SaaS |" in md
    assert '"monthly_active_users": 2000000' in md
    assert "Clearance verdict under profile `customer-saas`: **REVIEW**" in md
    assert "- Display 'Built with Example'" in md
    assert "| User scale | REVIEW |" in md


def test_html_is_escaped_and_well_formed(release_dir: Path) -> None:
    card = release_dir / "README.md"
    card.write_text(card.read_text().replace("license_name: example-open-model-license",
                                             'license_name: "<script>alert(1)</script>"'))
    rec = build_record(release_dir, note="<b>bold</b> & more")
    html = compliance.render(rec, "html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html
    for title in SECTIONS:
        assert title in html
    assert 'class="missing"' in html and "MISSING: no incident-response contacts" in html

    class Checker(HTMLParser):
        VOID = {"meta", "br", "img", "hr", "link", "input"}

        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []
            self.errors: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag not in self.VOID:
                self.stack.append(tag)

        def handle_endtag(self, tag):
            if not self.stack or self.stack[-1] != tag:
                self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            else:
                self.stack.pop()

    checker = Checker()
    checker.feed(html)
    assert checker.errors == [] and checker.stack == []
    assert not re.search(r"https?://(?!huggingface\.co)", html)  # self-contained


def test_cli_export_markdown_and_html(release_dir: Path, isolated: Path) -> None:
    from modelclear.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["record", str(release_dir), "-q"])
    assert res.exit_code == 0
    out = isolated / "compliance.html"
    res = runner.invoke(app, ["export", str(release_dir), "--format", "html", "-o", str(out),
                              "-q"])
    assert res.exit_code == 0, res.output
    assert out.read_text().startswith("<!DOCTYPE html>")
    res = runner.invoke(app, ["export", str(release_dir), "-f", "markdown", "-q"])
    assert res.exit_code == 0 and res.output.startswith("# Compliance record: example-7b")


def test_license_text_cannot_escape_its_markdown_fence(isolated: Path) -> None:
    root = support.write_release(isolated / "rel",
                                 license_text="Terms\n`````\n# Not a heading\n`````\n")
    md = compliance.render(build_record(root), "markdown")
    block = md[md.index("``````text\n"):]
    assert block.startswith("``````text\nTerms\n`````\n# Not a heading\n`````\n\n``````")
