"""Where forgetctl keeps its state: the audit database, keys and runs."""

import os
from pathlib import Path

import platformdirs

HOME_VARIABLE = "FORGETCTL_HOME"


def forgetctl_home() -> Path:
    """`FORGETCTL_HOME` if set, else the platform's user data directory (created on first use)."""
    home = Path(os.environ.get(HOME_VARIABLE) or platformdirs.user_data_dir("forgetctl"))
    home.mkdir(parents=True, exist_ok=True)
    return home
