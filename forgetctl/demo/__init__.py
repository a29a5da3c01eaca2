"""The embedded demo world: fictitious people, procedural portraits, and a tiny LLaVA that knows them."""

from importlib.resources import files
from pathlib import Path


def demo_model_dir() -> Path:
    """The shipped demo model, a llava-hf layout directory inside the package."""
    return Path(str(files("forgetctl.demo") / "assets" / "model"))
