"""A test world as the benchmarks see it: a model directory, its people, how to draw their photos
and describe their looks, and what the world knows to be true about an answer. The demo world is
one; tests/second_world is another. Only benchmarks and tests use these; evaluation never does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType


@dataclass(frozen=True)
class TestWorld:
    name: str
    model_dir: Path
    people: tuple  # known people: .name, .facts, .looks, .biography()
    unlike: Callable  # (person, n) -> people who look unlike them
    write_views: Callable  # (person, folder) -> photo paths (the last third sort as unseen)
    describe: Callable  # looks -> this world's own description of them
    truth: ModuleType  # leaks(person, text), names_someone(people, text), describes(looks, text)


def choose(world: TestWorld, n_forget: int, n_retain: int):
    """People no two of whom look alike, and retain people who look like none of them. Near-twins
    are recognised by the same features, so erasing one erases the other: a real effect,
    measured apart (docs/findings.md), not mixed into the benchmarks."""
    def unlike_all(person, chosen):
        return all(person in world.unlike(c, len(world.people)) for c in chosen)

    forget: list = []
    for person in world.people:
        if len(forget) < n_forget and unlike_all(person, forget):
            forget.append(person)
    retain = [p for p in world.people if p not in forget and unlike_all(p, forget)][:n_retain]
    return forget, retain


def demo_world() -> TestWorld:
    from forgetctl.demo import demo_model_dir, truth
    from forgetctl.demo.portraits import write_views
    from forgetctl.demo.world import describe, load_world

    world = load_world()
    return TestWorld("demo", demo_model_dir(), world.known, world.unlike, write_views, describe, truth)
