"""Where forgetctl keeps its state: the audit database, keys and runs."""

import os
from pathlib import Path

import platformdirs

HOME_VARIABLE = "FORGETCTL_HOME"


def forgetctl_home() -> Path:
    """`FORGETCTL_HOME` if set, else the platform's user data directory. Nothing is created here:
    the first thing written there creates it (mode 0700), so a refused command leaves no trace."""
    return Path(os.environ.get(HOME_VARIABLE) or platformdirs.user_data_dir("forgetctl"))
