"""datasette's meta-tests: every hook has a test that implements it and is documented in the README."""

from pathlib import Path

import pytest

from forgetctl.host import hookspecs

ROOT = Path(__file__).parent.parent
HOOKS = sorted(name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "forgetctl_spec"))


def test_there_are_hooks():
    assert HOOKS, "hookspecs.py declares no hook"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_plugin_in_a_test_named_for_it(hook):
    """A test named test_hook_<hook>... that implements the hook (a name merely mentioned is not enough)."""
    this = Path(__file__).name
    users = [p.name for p in (ROOT / "tests").glob("test_*.py")
             if p.name != this and f"def test_hook_{hook}" in (text := p.read_text()) and f"def {hook}(register)" in text]
    assert users, f"no test_hook_{hook}... test registers a plugin through {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook):
    assert f"`{hook}`" in (ROOT / "README.md").read_text(), f"README.md does not document {hook}"
