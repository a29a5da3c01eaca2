"""What the host hands an unlearning method: examples, encoding, and the frozen base model.

A method plugin only computes a loss. The host owns loading, the LoRA wrapping, the loop and the
retain loss. The reference model (PUBG), the teacher (VGID) and the NPO reference are all the one
loaded base model with the LoRA adapter switched off: never a second copy of the weights.
"""

from __future__ import annotations

import random
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import torch
from PIL import Image
from pydantic import BaseModel, ConfigDict, ValidationError

from forgetctl.engine import distributed
from forgetctl.engine.chat import encode_examples
from forgetctl.engine.generation import generate_answers
from forgetctl.engine.loading import LoadedModel
from forgetctl.errors import InputError


@dataclass(frozen=True)
class Example:
    """One (image, question, answer) triple. `key` is stable across steps, for per-sample caches."""

    image: Image.Image
    question: str
    answer: str
    key: str


class MethodOptions(BaseModel):
    """A method's hyperparameters, declared as typed fields with the paper's defaults (like llm's
    `Options`). Unknown keys and values of the wrong type are refused before any work starts."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def pydantic_problem(exc: ValidationError) -> str:
    """A pydantic error as one line: `field: message` for each problem."""
    return "; ".join(
        (".".join(str(part) for part in error["loc"]) + ": " if error["loc"] else "") + error["msg"]
        for error in exc.errors()
    )


class UnlearningMethod:
    """Base class of method plugins: typed `Options`, an optional `prepare`, one `loss`."""

    name: str = ""
    # Learning rate per model family (see loading.model_family): PUBG Table 6 for the 7B
    # LLaVA-1.6 models; "tiny" was tuned on the small test worlds (a few-million-parameter model
    # needs 10-100x the 7B rates in 30 steps); "default" when the family is not listed.
    learning_rates: dict[str, float] = {"default": 1e-4}
    Options: type[MethodOptions] = MethodOptions

    def __init__(self, options: MethodOptions | None = None):
        self.options = options if options is not None else self.Options()

    @classmethod
    def parse_options(cls, raw: dict) -> MethodOptions:
        """Validate `--method-option` values against this method's declared options."""
        try:
            return cls.Options(**raw)
        except ValidationError as exc:
            raise InputError(f"bad --method-option for {cls.name}: {pydantic_problem(exc)}") from None

    def prepare(self, ctx: "UnlearningContext", forget: list[Example]) -> None:
        """Compute anything constant before training (reference samples, reference log-probs)."""

    def loss(self, ctx: "UnlearningContext", forget: list[Example]) -> torch.Tensor:
        raise NotImplementedError

    def hyperparameters(self) -> dict:
        return self.options.model_dump()


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
            result = distributed.shard_map(sample, list(zip(images, questions)))
        model.train(was_training)
        return result
