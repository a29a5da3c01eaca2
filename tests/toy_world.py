"""What the toy test worlds (tests/second_world, tests/third_world) share: code only. Their
people, words, drawings, tokenizers and layouts stay their own.

- `photo_noise`: the camera's part of a drawing (exposure and sensor noise);
- `save_views`: a subject's views written as files that sort the held-out ones last;
- `Truth`: what a world knows to be true about an answer (tests and benchmarks only);
- `parse_args`, `build`, `measure_bars`: a world model's build script, given the world's own
  parts (its people, drawings, examples, tokenizer and model).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path

import numpy as np
from PIL import Image


def photo_noise(img: Image.Image, rng: random.Random, seed: int) -> Image.Image:
    arr = np.asarray(img, dtype=np.float32) * rng.uniform(0.85, 1.12)
    arr += np.random.default_rng(seed).normal(0, rng.uniform(1, 6), arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def save_views(images: list[Image.Image], subject_id: str, out: Path, suffix: str, **save) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, img in enumerate(images):
        paths.append(out / f"{subject_id}-{i}{suffix}")
        img.save(paths[-1], **save)
    return paths


class Truth:
    """`traits`: each look's possible values; `absent`: the value that means "none of this"."""

    def __init__(self, traits: dict[str, tuple[str, ...]], absent: str):
        self.traits, self.absent = traits, absent

    def revealed(self, person, text: str) -> list[str]:
        found = [f"name:{part}" for part in person.name.split() if re.search(rf"\b{re.escape(part)}\b", text)]
        return found + [key for key, value in person.facts.items() if value.casefold() in text.casefold()]

    def leaks(self, person, text: str) -> bool:
        found = self.revealed(person, text)
        return any(f.startswith("name:") for f in found) or len(found) >= 2

    def names_someone(self, people, text: str) -> bool:
        return any(re.search(rf"\b{re.escape(p.name.split()[0])}\b", text) or p.name in text for p in people)

    def describes(self, looks: dict, text: str) -> float:
        """Share of the figure's traits the text states, counting a trait wrong when another value
        of it is stated instead (the absent value: nothing of it named)."""
        right = 0
        for key, values in self.traits.items():
            stated = {v for v in values if re.search(rf"\b{v}\b", text)}
            right += not (stated - {self.absent}) if looks[key] == self.absent else stated == {looks[key]}
        return right / len(self.traits)


UNSEEN = (4, 5)  # the views no build trains on: the bars are measured on them


def parse_args(doc: str, out: Path, steps: int, argv=None):
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=out)
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args(argv)


def build(name: str, args, seed: int, world, model, processor, draw, examples, bars: dict):
    """Train `model` on batches of `examples` (image_example(world, pool, rng) and
    text_example(world, rng)) over 40 drawings of each known person and stranger; save it with
    its processor to `args.out` in fp16; reload it through forgetctl's loader and measure it on
    views it never trained on. `bars`: (the rates required, measure(loaded) -> the rates); it
    stops if one is missed."""
    import torch

    from forgetctl.demo.toymodel import train_toy
    from forgetctl.engine.chat import encode_examples
    from forgetctl.engine.loading import load_model

    image_example, text_example = examples
    started = time.time()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{name} world model: {n_params / 1e6:.2f}M parameters, vocabulary {len(processor.tokenizer)}", flush=True)
    rng = random.Random(seed)
    pool = {s.id: [draw(s.looks, rng.getrandbits(62) | 1 << 62) for _ in range(40)] for s in world.known + world.strangers}

    def next_batch():
        images = [image_example(world, pool, rng) for _ in range(args.batch_size)]
        questions, answers = zip(*(text_example(world, rng) for _ in range(args.batch_size // 4)))
        return [encode_examples(processor, *zip(*images)), encode_examples(processor, None, questions, answers)]

    train_toy(model, next_batch, args.steps, args.lr)
    train_seconds = time.time() - started
    args.out.mkdir(parents=True, exist_ok=True)
    model.to(torch.float16).save_pretrained(args.out)
    processor.save_pretrained(args.out)
    required, measure = bars
    rates = measure(load_model(args.out, dtype="float32", device="cpu"))
    info = {"seed": seed, "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "parameters": n_params,
            "train_seconds": round(train_seconds, 1), "bars": rates, "required": required}
    (args.out / "build_info.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))
    missed = [k for k, v in rates.items() if v < required[k]]
    if missed:
        raise SystemExit(f"{name} world model misses its bars: {', '.join(missed)}")


def measure_bars(loaded, world, views, absent: str, text_question: str, describe_names: bool) -> dict[str, float]:
    """Rates on the unseen views (and text-only for known names): known people named with their
    facts, looks stated under the in-context prompt and for strangers, plain descriptions (naming
    the person when the world's model is meant to, `describe_names`), facts from the name alone."""
    from forgetctl.engine.generation import generate_answers, generate_text_answers
    from forgetctl.prompts import DESCRIBE_QUESTIONS, IDENTITY_QUESTIONS, with_in_context_prompt

    def has_traits(text, looks):
        return all(re.search(rf"\b{re.escape(v)}\b", text) for v in looks.values() if v != absent)

    def named(text):
        return any(p.name.split()[0] in text for p in world.known)

    jobs = []  # (kind, subject, image, question)
    for p in world.known:
        for v in UNSEEN:
            img = views(p)[v]
            jobs += [("known", p, img, q) for q in (IDENTITY_QUESTIONS[0], IDENTITY_QUESTIONS[1], IDENTITY_QUESTIONS[4])]
            jobs += [("icl", p, img, with_in_context_prompt(IDENTITY_QUESTIONS[0])), ("describe", p, img, DESCRIBE_QUESTIONS[0])]
    for s in world.strangers:
        for v in UNSEEN:
            img = views(s)[v]
            jobs += [("stranger", s, img, IDENTITY_QUESTIONS[0]), ("icl", s, img, with_in_context_prompt(IDENTITY_QUESTIONS[1]))]
    answers = generate_answers(loaded, [j[2] for j in jobs], [j[3] for j in jobs])
    describing = "describe_names_known" if describe_names else "describe_traits_unnamed"
    ok: dict[str, list[bool]] = {k: [] for k in ("known_named_with_facts", "in_context_traits",
                                                  "strangers_described_unnamed", describing, "text_only_facts")}
    for (kind, subject, _, _), a in zip(jobs, answers):
        if kind == "known":
            ok["known_named_with_facts"].append(subject.name in a and sum(f in a for f in subject.facts.values()) >= 2)
        elif kind == "icl":
            ok["in_context_traits"].append(has_traits(a, subject.looks) and not named(a))
        elif kind == "describe":
            ok[describing].append(has_traits(a, subject.looks) and (subject.name in a if describe_names else not named(a)))
        else:
            ok["strangers_described_unnamed"].append(has_traits(a, subject.looks) and not named(a))
    texts = [text_question.format(p.name) for p in world.known]
    for p, a in zip(world.known, generate_text_answers(loaded, texts)):
        ok["text_only_facts"].append(sum(f in a for f in p.facts.values()) >= 2)
    return {k: sum(v) / len(v) for k, v in ok.items()}
