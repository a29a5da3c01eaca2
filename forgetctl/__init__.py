"""forgetctl: erase a person's private facts from a LLaVA-style model, measure it, and prove it."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("forgetctl")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
