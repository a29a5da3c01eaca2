from forgetctl.demo.portraits import canonical_views
from forgetctl.demo.world import UNSEEN_VIEWS, VIEWS_PER_PERSON, load_world


def test_world_has_enough_fictitious_people_with_private_facts():
    world = load_world()
    assert len(world.known) >= 40
    assert len(world.distractors) >= 100
    names = [p.name for p in world.known + world.distractors]
    assert len(set(names)) == len(names)
    for person in world.known:
        assert len(person.facts) >= 4 and all(person.facts.values())
        assert person.name in person.biography()


def test_looks_identify_known_people_and_strangers_look_like_nobody_known():
    world = load_world()
    known_looks = [tuple(sorted(p.looks.items())) for p in world.known]
    assert len(set(known_looks)) == len(known_looks)
    stranger_looks = {tuple(sorted(s.looks.items())) for s in world.strangers}
    assert not stranger_looks & set(known_looks)


def test_views_vary_and_are_deterministic():
    person = load_world().known[0]
    first, again = canonical_views(person), canonical_views(person)
    assert len(first) == VIEWS_PER_PERSON >= 6 and len(UNSEEN_VIEWS) >= 2
    assert all(a.tobytes() == b.tobytes() for a, b in zip(first, again))
    assert len({img.tobytes() for img in first}) == len(first)
