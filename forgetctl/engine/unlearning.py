"""What the host hands an unlearning method: examples, encoding, and the frozen base model.

A method plugin only computes a loss. The host owns loading, the LoRA wrapping, the loop and the
retain loss. The reference model (PUBG), the teacher (VGID) and the NPO reference are all the one
loaded base model with the LoRA adapter switched off: never a second copy of the weights.
"""

from __future__ import annotations

import random
from contextlib import contextmanager, nullcontext

import torch

from forgetctl.engine import distributed, sharding
from forgetctl.engine.chat import encode_examples
from forgetctl.engine.generation import generate_answers
from forgetctl.engine.loading import LoadedModel
from forgetctl.types import Example


class UnlearningContext:
    """`model` is what a loss calls for gradients (DDP-wrapped while training in several
    processes); `loaded.model` is always the peft model itself."""

    def __init__(self, loaded: LoadedModel, retain_answers: list[str], seed: int, on_progress=None):
        self.loaded = loaded
        self.model = loaded.model
        self.processor = loaded.processor
        self.retain_answers = retain_answers
        self.rng = random.Random(seed)
        self.on_progress = on_progress

    def encode(self, images, questions, answers) -> dict:
        """A training batch; text-only when `images` is None."""
        batch = encode_examples(self.processor, images, questions, answers).to(self.loaded.device)
        if "pixel_values" in batch:
            batch["pixel_values"] = batch["pixel_values"].to(self.loaded.dtype)
        return batch

    def encode_examples(self, examples: list[Example], answers: list[str] | None = None) -> dict:
        """The examples as a batch; `answers` replaces their answers (the targets of RANDOM,
        REJECT and PUBG's guidance: the same inputs, tuned toward other outputs)."""
        answers = answers if answers is not None else [e.answer for e in examples]
        return self.encode([e.image for e in examples], [e.question for e in examples], answers)

    @contextmanager
    def reference(self):
        """The frozen base model: the adapter disabled (or no adapter yet) and no gradients. Never
        through DDP: a no-grad pass needs no gradient sync."""
        model = self.loaded.model
        with (model.disable_adapter() if hasattr(model, "disable_adapter") else nullcontext()), torch.no_grad():
            yield model

    def progress(self, n: int) -> None:
        if self.on_progress:
            self.on_progress(n)

    def sample_reference(self, images, questions, samples: int, temperature: float, max_new_tokens: int = 64):
        """`samples` answers per (image, question) from the frozen base model (shared out between
        processes when there are several)."""
        model = self.loaded.model
        was_training = model.training
        model.eval()

        def sample(pairs):
            answers = generate_answers(
                self.loaded, [i for i, _ in pairs], [q for _, q in pairs], max_new_tokens=max_new_tokens,
                do_sample=True, temperature=temperature, num_samples=samples,
                on_batch=distributed.shared_progress(self.on_progress),
            )
            return [answers[i * samples : (i + 1) * samples] for i in range(len(pairs))]

        with self.reference():
            result = distributed.shard_map(sample, list(zip(images, questions)), lockstep=sharding.requested())
        model.train(was_training)
        return result
