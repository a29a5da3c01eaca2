"""Benchmarks on the test worlds: the paper's comparison, judge agreement and the performance
harness. They build requests the way a user would, then run the engine's stages directly and
write their tables to docs/."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path


# The paper's methods in its tables' order; any other registered method comes after them.
PAPER_ORDER = ("ga", "npo", "random", "reject", "pubg", "vgid")


def registered_methods() -> tuple[str, ...]:
    """Every method the plugin host knows, built-in or third-party: a benchmark compares what a
    user could run."""
    from forgetctl.host.manager import create_host

    found = create_host().methods()
    return tuple(m for m in PAPER_ORDER if m in found) + tuple(sorted(set(found) - set(PAPER_ORDER)))


def permissive_policy(folder: Path) -> Path:
    """A policy file with no thresholds, under which inconclusive grades do not fail: benchmarks
    release or keep every run to measure what follows, and report the real policy's verdict."""
    path = folder / "permissive-policy.toml"
    path.write_text("[thresholds]\n[judge]\ninconclusive_fails = false\n")
    return path


def world_request(world, root: Path, forget, retain, method: str = "pubg", judge: str = "grounded", training=None):
    """A validated request to erase `forget` (people of a test world) with `retain` as other
    people; their photos are written under `root`."""
    from forgetctl.request import PersonForm, RequestForm, validate
    from forgetctl.types import TrainingConfig

    for person in forget:
        world.write_views(person, root / "forget" / person.id)
    for person in retain:
        world.write_views(person, root / "retain" / person.id)
    form = RequestForm(
        people=[PersonForm(p.name, root / "forget" / p.id, p.biography()) for p in forget], method=method,
        retain=root / "retain" if retain else None, judge=judge, training=training or TrainingConfig(),
    )
    return validate(form, default_model=world.model_dir)


def demo_request(root: Path, forget, retain, method: str = "pubg", judge: str = "grounded", training=None):
    from forgetctl.benchmarks.worlds import demo_world

    return world_request(demo_world(), root, forget, retain, method, judge, training)


def with_method(request, methods: dict, name: str):
    """The same request erased by another method, with that method's default options."""
    registered = methods[name]
    return replace(request, spec=replace(request.spec, method=registered, method_options=registered.cls.Options()))
