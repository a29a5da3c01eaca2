from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from forgetctl import __version__
from forgetctl.cli import app, main

runner = CliRunner()


def all_command_paths(group=None, prefix=()):
    """Every command and group path, found by walking the click tree typer builds."""
    group = group or typer.main.get_command(app)
    paths = [prefix]
    for name, command in getattr(group, "commands", {}).items():
        paths += all_command_paths(command, prefix + (name,)) if hasattr(command, "commands") else [prefix + (name,)]
    return paths


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"forgetctl {__version__}"


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "forgetctl")
def test_every_command_has_help(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) > 3


def test_erase_help_and_the_readme_give_the_meaning_of_every_exit_code():
    import re

    from forgetctl.errors import ExitCode

    text = " ".join(runner.invoke(app, ["erase", "--help"], env={"COLUMNS": "200"}).output.split())
    readme = " ".join((Path(__file__).parent.parent / "README.md").read_text().split())
    for code in ExitCode:
        assert re.search(rf"\b{int(code)} (erased|an error|a usage error|the policy failed|the base model|a batch|interrupted)", text), code
        assert f"`{int(code)}`" in readme, code


def test_domain_error_is_one_red_line_and_exit_1(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "images", "--out", str(tmp_path / "x"), "--person", "Nobody Atall"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no demo person called 'Nobody Atall'")
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_debug_variable_shows_the_traceback(tmp_path, monkeypatch):
    from forgetctl.errors import InputError

    monkeypatch.setenv("FORGETCTL_DEBUG", "1")
    with pytest.raises(InputError):
        main(["demo", "images", "--out", str(tmp_path), "--person", "Nobody Atall"])


def test_plugins_lists_builtins_with_versions():
    result = runner.invoke(app, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    import json

    rows = json.loads(result.output)
    assert rows, "the built-in plugins must be loaded through their entry points"
    for row in rows:
        assert row["version"] == __version__
        assert row["hooks"] and row["registers"]


def test_demo_images_writes_pngs(tmp_path):
    result = runner.invoke(app, ["demo", "images", "--out", str(tmp_path / "p"), "--person", "p002"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "p").glob("*.png"))) == 6
    result = runner.invoke(app, ["demo", "images", "--out", str(tmp_path / "u"), "--unknown", "u003"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "u").glob("u003_view*.png"))) == 6


@pytest.mark.slow
@pytest.mark.verdict
def test_erase_without_a_retain_folder_passes_the_default_policy_on_the_demo_model(tmp_path, forgetctl_home):
    runner.invoke(app, ["demo", "images", "--out", str(tmp_path / "p"), "--person", "p001"])
    result = runner.invoke(app, ["erase", "--entity", "Percival Ellingwood", "--images", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output[-3000:]
    assert "No --retain folder" in result.output and "Policy default: PASSED" in result.output


def test_the_policy_table_reads_whole_at_80_columns(monkeypatch):
    from forgetctl.cli import erasing
    from forgetctl.policy import Check, Verdict, load_policy

    from rich.console import Console

    # A console of its own: setting the shared one's width would outlive the test.
    monkeypatch.setattr(erasing, "console", Console(width=80))
    checks = [Check(name, None if i % 2 else 0.0, bound, "<=", True, "no earlier erasure to re-probe" if i % 2 else "")
              for i, (name, bound) in enumerate(load_policy("default").thresholds.items())]
    assert len(checks) > 10
    with erasing.console.capture() as captured:
        erasing.render_checks(Verdict("default", tuple(checks)))
    text = captured.get()
    assert max(map(len, text.splitlines())) <= 80
    assert all(f"│ {c.name} " in text for c in checks)  # every name whole, on one line


def test_a_command_taking_flags_gets_one_typed_object_and_each_call_its_own_lists():
    from dataclasses import dataclass

    from forgetctl.cli.flags import command_taking, flag

    @dataclass(frozen=True)
    class Flags:
        name: list[str] = flag([], "--name", help="Repeat for several.")
        steps: int = flag(3, "--steps", min=1, help="How many.")

    seen = []

    @command_taking(Flags)
    def command(flags: Flags):
        """Says what it got."""
        seen.append(flags)

    tiny = typer.Typer()
    tiny.command()(command)
    tiny.command("other")(lambda: None)  # two commands: typer keeps the names
    assert runner.invoke(tiny, ["command", "--name", "a", "--name", "b", "--steps", "5"]).exit_code == 0
    assert runner.invoke(tiny, ["command"]).exit_code == 0
    assert seen == [Flags(["a", "b"], 5), Flags([], 3)] and seen[1].name is not Flags().name
    refused = runner.invoke(tiny, ["command", "--steps", "0"])
    assert refused.exit_code == 2 and "--steps" in refused.output
    assert "Says what it got." in runner.invoke(tiny, ["command", "--help"]).output


def test_the_terminal_says_why_the_knowledge_tests_did_not_run_as_the_report_will(monkeypatch):
    from types import SimpleNamespace

    from rich.console import Console

    from forgetctl.cli import erasing
    from forgetctl.evaluation.results import Evaluation
    from forgetctl_audit.report_statements import knowledge_unmeasured

    monkeypatch.setattr(erasing, "console", Console(width=80))
    splits = {"seen": {"clipscore": None, "knowledge_measured": False, "knowledge_note": "nothing to test"}}
    evaluation = Evaluation(forget={"Ann Lee": splits}, retain={}, judge={"label": "grounded"})
    with erasing.console.capture() as captured:
        erasing.render_measured(SimpleNamespace(identified={}, forget={}), evaluation, "pubg")
    said = " ".join(captured.get().split())
    assert f"Ann Lee: {knowledge_unmeasured(splits)}" in said and "measured: nothing to test." in said
