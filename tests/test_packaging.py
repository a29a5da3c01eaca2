"""The built wheel (what `pip install forgetctl` gets) holds every package, plugin, policy and asset."""

import subprocess
import sys
import zipfile

import pytest


@pytest.mark.slow
def test_wheel_contains_every_module_and_asset(tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(root)],
        check=True, capture_output=True,
    )
    names = set(zipfile.ZipFile(next(tmp_path.glob("forgetctl-*.whl"))).namelist())
    source_modules = {
        str(p.relative_to(root)).replace("plugins/", "forgetctl_plugins/", 1).replace("audit/", "forgetctl_audit/", 1)
        .replace("policies/", "forgetctl_policies/", 1)
        for folder in ("forgetctl", "plugins", "audit", "policies") for p in (root / folder).rglob("*")
        if p.is_file() and p.suffix in (".py", ".toml", ".json", ".safetensors", ".jinja", ".j2") and "__pycache__" not in p.parts
    }
    assert source_modules - names == set()
    from forgetctl.host.manager import DEFAULT_PLUGINS

    for module in DEFAULT_PLUGINS.values():  # every built-in plugin the host registers ships
        assert module.replace(".", "/") + ".py" in names
