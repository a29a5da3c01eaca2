"""Commands that do not train start without torch: listing, auditing, lineage and the dry run."""

import os
import subprocess
import sys

import pytest

from forgetctl.demo.portraits import write_views
from forgetctl.demo.world import load_world

HEAVY = ("torch", "transformers", "open_clip", "peft", "accelerate")


def imported_modules(args, home) -> set[str]:
    """The top-level packages a `forgetctl ARGS` process imports, from `-X importtime`."""
    env = {**os.environ, "FORGETCTL_HOME": str(home), "COLUMNS": "80"}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "forgetctl", *args],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:") and "|" in line]
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = tmp_path_factory.mktemp("startup")
    subprocess.run([sys.executable, "-m", "forgetctl", "keys", "init"], env={**os.environ, "FORGETCTL_HOME": str(root / "home")},
                   check=True, capture_output=True)
    write_views(load_world().known[0], root / "photos")
    return root


@pytest.mark.parametrize("args", [["--help"], ["plugins"], ["models"], ["audit", "list"], ["lineage", "list"], ["erase", "--dry-run"]],
                         ids=lambda args: " ".join(args))
def test_commands_that_do_not_train_import_no_model_library(args, home):
    if args[0] == "erase":
        args = ["erase", "--entity", load_world().known[0].name, "--images", str(home / "photos"), "--dry-run"]
    loaded = imported_modules(args, home / "home")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
