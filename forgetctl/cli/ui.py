"""Shared terminal output: one console for results, one for errors, and progress per phase."""

import time
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()
err_console = Console(stderr=True)


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=False,
    )


def phases(bar: Progress):
    """The engine's progress protocol on a rich bar: phase(name, total) starts a bar, returns advance(n)."""
    def phase(name: str, total: int):
        task = bar.add_task(name, total=total)
        return lambda n: bar.advance(task, n)

    return phase


def line_phases():
    """The same protocol for a pipe or a log file, where a live bar would only appear at the end:
    one line when a phase starts and one when it is done."""
    def phase(name: str, total: int):
        err_console.print(f"{escape(name)}: {total} to do", highlight=False)
        started, done = time.perf_counter(), 0

        def advance(n):
            nonlocal done
            before, done = done, done + n
            if before < total <= done:
                err_console.print(f"{escape(name)}: done in {time.perf_counter() - started:.1f} s", highlight=False)

        if total == 0:
            advance(0)
        return advance

    return phase


@contextmanager
def phase_progress():
    """The engine's progress protocol, phase(name, total) -> advance(n): live bars on a terminal,
    a line per phase on a pipe or in a log."""
    if not err_console.is_terminal:
        yield line_phases()
        return
    with progress() as bar:
        yield phases(bar)
