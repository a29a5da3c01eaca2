"""Shared terminal output: one console for results, one for errors, and the progress bar style."""

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()
err_console = Console(stderr=True)


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=False,
    )


def phases(bar: Progress):
    """The engine's progress protocol on a rich bar: phase(name, total) starts a bar, returns advance(n)."""
    def phase(name: str, total: int):
        task = bar.add_task(name, total=total)
        return lambda n: bar.advance(task, n)

    return phase
