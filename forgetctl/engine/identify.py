"""Before training: does the base model identify each person (forgetctl.evaluation.identification)?

What a person's answers leak is read with a detector built from the harvest itself: what the
base model said about them, against what it said about everyone else in the run and what it
describes as visible. The control is the base model's answers on photos that are not the
person's: the retain people's photos, the other people of a batch, and noise images the size of
their photos (a model that names someone on noise does not recognise them).
"""

from __future__ import annotations

import random
from collections import defaultdict

from PIL import Image

from forgetctl.engine.generation import ask
from forgetctl.engine.images import Photo
from forgetctl.evaluation.grounding import ASKED, Grounding, LeakDetector, PersonText
from forgetctl.evaluation.identification import Identification, identification
from forgetctl.prompts import IDENTITY_QUESTIONS
from forgetctl.types import EraseSpec, Harvest

NOISE_PHOTOS = 2


def detectors(spec: EraseSpec, harvested: Harvest) -> dict[str, LeakDetector]:
    """Per person: their leak detector, grounded in the harvest (the evaluation's own grounding)."""
    said = harvested.said()
    texts = {}
    for person in spec.people:
        revealed = [a for p in person.views for a in said[id(p)][0]] + ([person.profile] if person.profile else [])
        texts[person.name] = PersonText(person.name, tuple(revealed), tuple(said[id(p)][1] for p in person.views))
    others = []
    if harvested.retain_are_others:
        groups = defaultdict(lambda: ([], []))
        for photo, before, reference in zip(harvested.retain_views, harvested.retain_before, harvested.retain_references):
            groups[photo.path.parent][0].extend(before)
            groups[photo.path.parent][1].append(reference)
        others = [PersonText(None, tuple(answers), tuple(references)) for answers, references in groups.values()]
    return {
        name: Grounding(text, tuple(t for t in texts.values() if t is not text) + tuple(others), asked=ASKED).leak_detector
        for name, text in texts.items()
    }


def noise_photos(spec: EraseSpec, seed: int) -> list[Photo]:
    """Random pixels the size of the first person's first photo: no one is in them."""
    size = spec.people[0].views[0].image.size
    rng = random.Random(seed)
    photos = []
    for i in range(NOISE_PHOTOS):
        image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
        photos.append(Photo(spec.people[0].views[0].path.with_name(f"noise-{i}"), f"noise-{i}", image, b""))
    return photos


def identify(loaded, spec: EraseSpec, harvested: Harvest, advance=None) -> dict[str, Identification]:
    """Per person: how often the base model leaks them on their photos, against the control."""
    noise = noise_photos(spec, spec.training.seed)
    on_noise = [a for answers in ask(loaded, noise, IDENTITY_QUESTIONS, advance) for a in answers]
    said = {key: before for key, (before, _) in harvested.said().items()}
    retain = [a for answers in harvested.retain_before for a in answers] if harvested.retain_are_others else []
    found = {}
    for name, detector in detectors(spec, harvested).items():
        person = next(p for p in spec.people if p.name == name)
        others = [a for p in spec.people if p is not person for v in p.views for a in said[id(v)]]
        found[name] = identification(detector.leaks, [said[id(p)] for p in person.views], retain + others + on_noise)
    return found
