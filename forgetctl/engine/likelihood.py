"""How likely a model finds given answers about given photos: the inputs of the knowledge tests
(forgetctl.evaluation.knowledge). Scored through the same chat path as training, so a likelihood
here is of exactly what the model is trained on and asked."""

from __future__ import annotations

from contextlib import nullcontext

import torch

from forgetctl.engine.chat import encode_examples
from forgetctl.engine.identify import detectors
from forgetctl.evaluation.grounding import name_parts
from forgetctl.evaluation.knowledge import Question, Scored, knowledge, knowledge_items
from forgetctl.types import EraseSpec, Harvest

@torch.no_grad()
def score(loaded, model, triples: list[tuple], batch_size: int = 8) -> list[Scored]:
    """Per (image or None, question, answer), a chunk all with images or all without: each answer token's log-probability, and the mean and
    spread of the log-probabilities over the vocabulary at its position."""
    out: list[Scored] = []
    for start in range(0, len(triples), batch_size):
        chunk = triples[start : start + batch_size]
        images = [t[0] for t in chunk]  # None for each of a text-only chunk
        batch = encode_examples(loaded.processor, None if images[0] is None else images, [t[1] for t in chunk], [t[2] for t in chunk])
        batch = batch.to(loaded.device)
        if "pixel_values" in batch:
            batch["pixel_values"] = batch["pixel_values"].to(loaded.dtype)
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        logp = torch.log_softmax(model(**inputs).logits[:, :-1].float(), -1)
        labels = batch["labels"][:, 1:]
        for row, lab, (_, _, text) in zip(logp, labels, chunk):
            at = lab != -100
            rows, targets = row[at], lab[at]
            probs = rows.exp()
            mean = (probs * rows).sum(-1)
            spread = ((probs * rows.square()).sum(-1) - mean.square()).clamp(min=0).sqrt()
            out.append(Scored(text, tuple(rows.gather(1, targets[:, None]).squeeze(1).tolist()),
                              tuple(mean.tolist()), tuple(spread.tolist())))
    return out


def knowledge_questions(spec: EraseSpec, harvested: Harvest) -> dict[str, dict[str, list[tuple]]]:
    """Per person and split: the knowledge items of the base model's answers that leaked them;
    the perturbations take other people's facts from the other answers the run has (retain
    people, people erased before, and the answers that identified the batch's others: a mere
    description has no fact to swap in)."""
    said = {key: before for key, (before, _) in harvested.said().items()}
    found = detectors(spec, harvested)
    pool = [a for answers in harvested.retain_before for a in answers] if harvested.retain_are_others else []
    pool += [a for e in spec.earlier for answers in e.before.get("seen", ()) for a in answers]
    out = {}
    for person in spec.people:
        detector = found[person.name]
        others = list(dict.fromkeys(
            a for a in pool + [a for p in spec.people if p is not person for v in p.views for a in said[id(v)]
                                 if found[p.name].leaks(a)]
            if not detector.leaks(a)))
        out[person.name] = {
            split: knowledge_items(photos, [said[id(photo)] for photo in photos], detector.leaks, others, name_parts(person.name))
            for split, photos in (("seen", person.seen), ("unseen", person.unseen))
        }
    return out


def knowledge_of(loaded, model, items: list[tuple]) -> dict:
    """The knowledge tests of `items` on `model` (forgetctl.evaluation.knowledge.knowledge)."""
    triples = [(image, q, text) for image, q, true, fakes in items for text in (true, *fakes)]
    scored = iter(score(loaded, model, triples))
    return knowledge([Question(next(scored), tuple(next(scored) for _ in fakes)) for _, _, _, fakes in items])


def measure_knowledge(loaded, spec: EraseSpec, harvested: Harvest, advance=None) -> dict[str, dict[str, dict]]:
    """Per person and split: the knowledge tests on the model before this run (the adapter off)
    and after it (the adapter on)."""
    asked = knowledge_questions(spec, harvested)
    model = loaded.model
    results: dict[str, dict[str, dict]] = {}
    for name, splits in asked.items():
        results[name] = {}
        for split, items in splits.items():
            measured = {}
            for when, switch in (("before", model.disable_adapter()), ("after", nullcontext())):
                with switch:
                    measured[when] = knowledge_of(loaded, model, items)
            results[name][split] = measured
            if advance:
                advance(1)
    return results
