"""Regression probes: the people an erasure must leave as they were, asked again on the trained
model (everyone a lineage erased before, their erasures' retain people, its canaries), each
photo once however many jobs share it."""

from __future__ import annotations

from forgetctl.engine.generation import ask
from forgetctl.engine.images import Photo
from forgetctl.engine.loading import LoadedModel
from forgetctl.prompts import IDENTITY_QUESTIONS, RETAIN_QUESTIONS
from forgetctl.reporting import QUIET, Reporter
from forgetctl.types import EraseSpec, Probe


def names_a_person(answer: str, names: list[str]) -> bool:
    lowered = answer.lower()
    return any(name.lower() in lowered for name in names)


def heard_now(probes: list[Probe], questions) -> dict[tuple, list[str]]:
    """What this model answered already, by (photo, questions): a regression probe of the same
    photo with the same questions (a retain folder the lineage's erasures share) is not asked again."""
    return {(p.photo.sha256, tuple(questions)): p.after for p in probes}


def ask_again(loaded: LoadedModel, jobs: list[tuple], title: str, report: Reporter,
              heard: dict[tuple, list[str]] | None = None) -> dict[str, dict[str, list[Probe]]]:
    """Regression probes: per (label, split, photos, answers before, questions), the photos asked
    again. A photo several jobs share (one retain folder across a lineage's erasures), or one in
    `heard`, is asked once."""
    if not jobs:
        return {}
    heard = dict(heard or {})
    unique: dict[tuple, Photo] = {}
    for _, _, photos, _, questions in jobs:
        for p in photos:
            if (p.sha256, tuple(questions)) not in heard:
                unique.setdefault((p.sha256, tuple(questions)), p)
    advance = report.phase(title, sum(len(q) for _, q in unique))
    for questions in dict.fromkeys(q for _, q in unique):
        keys = [k for k in unique if k[1] == questions]
        heard.update(zip(keys, ask(loaded, [unique[k] for k in keys], list(questions), advance)))
    out: dict[str, dict[str, list[Probe]]] = {}
    for label, split, photos, before, questions in jobs:
        out.setdefault(label, {})[split] = [Probe(p, list(b), heard[(p.sha256, tuple(questions))]) for p, b in zip(photos, before)]
    return out


def probe_earlier(loaded: LoadedModel, spec: EraseSpec, report: Reporter = QUIET, heard: dict | None = None) -> dict[str, dict[str, list[Probe]]]:
    """Every earlier person's photos, and their erasure's retain photos (but the people whose
    turn has not come round, `spec.deferred`); `heard`: this run's own retain answers."""
    due = [e for e in spec.earlier if e.label not in spec.deferred]
    jobs = [(e.label, split, photos, e.before[split], IDENTITY_QUESTIONS) for e in due for split, photos in e.photos.items()]
    jobs += [(e.label, "retain", e.retain, e.retain_before, RETAIN_QUESTIONS) for e in due if e.retain]
    return ask_again(loaded, jobs, "Re-probing people erased before", report, heard)


def probe_bystanders(loaded: LoadedModel, spec: EraseSpec, report: Reporter = QUIET) -> dict[str, list[Probe]]:
    """The lineage's canaries asked again; one on whose photos the original base named a person
    being erased now (the person themself, or a look-alike it confuses with them) is no bystander:
    their answers are meant to change. They are left out, and said so."""
    names = [person.name for person in spec.people]
    erased = [b.label for b in spec.bystanders if any(names_a_person(a, names) for answers in b.before for a in answers)]
    if erased:
        report.notice(f"canaries {', '.join(erased)}: the original base names a person being erased on their photos, "
                      "so they are not counted as bystanders")
    jobs = [(b.label, "canary", b.photos, b.before, RETAIN_QUESTIONS) for b in spec.bystanders if b.label not in erased]
    return {label: splits["canary"] for label, splits in ask_again(loaded, jobs, "Asking the canaries again", report).items()}
