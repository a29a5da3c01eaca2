"""datasette's meta-tests: every hook has a test that implements it and is documented in the README."""

from pathlib import Path

import pytest

from forgetctl.host import hookspecs

ROOT = Path(__file__).parent.parent
HOOKS = sorted(name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "forgetctl_spec"))


def test_there_are_hooks():
    assert HOOKS, "hookspecs.py declares no hook"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_plugin_in_the_tests(hook):
    this = Path(__file__).name
    users = [p.name for p in (ROOT / "tests").glob("test_*.py") if p.name != this and hook in p.read_text()]
    assert users, f"no test registers a plugin through {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook):
    assert f"`{hook}`" in (ROOT / "README.md").read_text(), f"README.md does not document {hook}"
