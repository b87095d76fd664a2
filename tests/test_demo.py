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
