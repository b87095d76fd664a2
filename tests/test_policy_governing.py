"""Which license governs the weights, decided from evidence (issue 17, MC528).

Releases built by the tests: an Apache-2.0 LICENSE for the code (the card declares
apache-2.0) and a separate model license, in MODEL_LICENSE or named by the README.
"""

from __future__ import annotations

import json
from pathlib import Path

from modelclear.analyzers.policy import Status, load_profile
from modelclear.demo import LICENSE as MODEL_TEXT
from modelclear.pipeline import run_target

APACHE_HEAD = """                                 Apache License
                           Version 2.0, January 2004
                        http://www.apache.org/licenses/

   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION
"""
MIT_TEXT = """MIT License

Copyright (c) 2025 Example Labs

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def release(root: Path, files: dict[str, str], readme: str) -> str:
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "README.md").write_text("---\nlicense: apache-2.0\n---\n# Example model\n\n"
                                    + readme, encoding="utf-8")
    (root / "config.json").write_text(json.dumps({"model_type": "llama"}))
    return str(root)


def governs(target: str):
    res = run_target(target, load_profile("customer-saas"))
    assert res.policy is not None
    return res.policy, res.policy.check("governing-license")


def test_model_license_file_governs_not_the_code_license(tmp_path: Path) -> None:
    target = release(tmp_path / "r", {"LICENSE": APACHE_HEAD, "MODEL_LICENSE": MIT_TEXT},
                     "The code is licensed under the Apache-2.0 License (LICENSE).\n"
                     "The model weights are licensed under the MIT License (see MODEL_LICENSE).\n")
    pol, c = governs(target)
    assert pol.license_id == "MIT"
    assert c is not None and c.status is Status.CLEAR
    assert "MODEL_LICENSE" in c.reason and "README" in c.reason
    assert any(e.file == "README.md" and e.line for e in c.evidence)


def test_readme_statement_decides_without_a_telling_file_name(tmp_path: Path) -> None:
    target = release(tmp_path / "r", {"LICENSE": APACHE_HEAD, "ACME_LICENSE.txt": MODEL_TEXT},
                     "Model weights are released under the Acme Demo Model License "
                     "(ACME_LICENSE.txt); the code is licensed under Apache-2.0.\n")
    pol, c = governs(target)
    assert c is not None and c.status is Status.CLEAR
    assert "ACME_LICENSE.txt" in c.reason


def test_unsure_is_review_never_a_default(tmp_path: Path) -> None:
    target = release(tmp_path / "r", {"LICENSE": MIT_TEXT, "OTHER_LICENSE.txt": MODEL_TEXT},
                     "See the license files.\n")
    _pol, c = governs(target)
    assert c is not None and c.status is Status.REVIEW and "unsure" in c.reason
