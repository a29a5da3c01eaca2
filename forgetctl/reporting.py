"""How the stages talk to whoever runs them: progress per phase, per-step losses, notices.

The engine never prints; the CLI passes a Reporter that draws rich bars, a library caller the
quiet default."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

# phase(name, total) starts a phase and returns advance(n).
Phase = Callable[[str, int], Callable[[int], None]]


def no_progress(name: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@dataclass(frozen=True)
class Reporter:
    phase: Phase = no_progress
    step: Callable[[dict], None] = lambda entry: None
    notice: Callable[[str], None] = lambda message: None


QUIET = Reporter()


@dataclass
class Stopwatch:
    """Wall-clock seconds per named stage, in the order the stages ran."""

    laps: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def lap(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.laps[name] = round(time.perf_counter() - started, 3)
