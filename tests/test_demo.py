from modelclear.cli import main


def test_demo_runs_every_step_and_catches_the_change(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for step in ("What did we get?", "What may we do with it?", "Is it safe to load?",
                 "What does it take to run?", "Does it fit our deployment",
                 "Record the clearance", "verify caught the changed shard"):
        assert step in out


def test_exit_codes_pass_through_main():
    assert main(["--version"]) == 0
    assert main(["inspect", "/definitely/not/here"]) == 2
    assert main(["no-such-command"]) == 2


def test_demo_json_summary(capsys):
    import json

    assert main(["demo", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["ok"] is True and d["schema_version"] == 1
    assert [s["command"] for s in d["steps"]] == [
        "inspect", "license", "scan", "plan", "audit", "record", "verify"]
    assert d["steps"][-1]["exit_code"] == 1  # verify caught the changed shard
