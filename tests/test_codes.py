import re

from modelclear.cli import main
from modelclear.findings import Severity, codes, finding

RANGES = {"1": "inventory/format/records", "2": "license", "3": "security", "4": "sizing",
          "5": "policy/probes"}


def test_every_code_is_documented_and_in_its_range():
    table = codes()
    assert len(table) > 50
    for code, info in table.items():
        assert re.fullmatch(r"MC[1-5]\d\d", code), code
        assert info.title and info.docs, code
        assert isinstance(info.severity, Severity)


def test_unknown_code_is_a_bug():
    import pytest

    with pytest.raises(KeyError):
        finding("MC999", "nope")


def test_codes_command(capsys):
    assert main(["codes", "MC100"]) == 0
    assert "extension" in capsys.readouterr().out
    assert main(["codes", "XX"]) == 2
