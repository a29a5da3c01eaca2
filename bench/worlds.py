"""The test worlds by name, for the scripts in bench/: the demo world ships with forgetctl; the
second and third are test fixtures (tests/second_world, tests/third_world), each built by its
script and read here only."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def demo():
    from forgetctl.benchmarks.worlds import demo_world

    return demo_world()


def second():
    from second_world import as_test_world

    return as_test_world()


def third():
    from third_world import as_test_world

    return as_test_world()


MAKERS = {"demo": demo, "second": second, "third": third}


def world(name: str):
    return MAKERS[name]()
