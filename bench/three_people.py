#!/usr/bin/env python3
"""Photos for a three-request lineage on the demo world: OUT/p0, p1, p2 (each person's views,
their name in pN.name) and OUT/retain (three people unlike the first, one folder each).

    python bench/three_people.py OUT      (used by report_screenshot.sh and text_route.sh)
"""

import sys
from pathlib import Path

from forgetctl.demo.portraits import write_views
from forgetctl.demo.world import load_world


def main(out: Path) -> None:
    world = load_world()
    people = world.known[:3]
    for i, person in enumerate(people):
        write_views(person, out / f"p{i}")
        (out / f"p{i}.name").write_text(person.name)
    for other in world.unlike(people[0], 3):
        if other not in people:
            write_views(other, out / "retain" / other.id)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
