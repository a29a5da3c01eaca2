"""Relearning: a few LoRA fine-tuning steps on data unrelated to the person (the retain people's
own answers), then ask again. Published attacks bring most "forgotten" knowledge back this way
(Hu et al., arXiv 2406.13356; Deeb & Roger; Lucki et al.)."""

import random

import torch
from pydantic import Field

from forgetctl.attacks import Attack, AttackOptions
from forgetctl.engine.losses import mean_token_nll
from forgetctl.engine.training import TrainingConfig, wrap_with_lora
from forgetctl.engine.unlearning import UnlearningContext
from forgetctl.host.hookspecs import hookimpl
from forgetctl.prompts import IDENTITY_QUESTIONS


class Options(AttackOptions):
    steps: list[int] = Field([10, 30], description="fine-tuning steps, one variant each")
    learning_rate: float = Field(1e-3, gt=0, description="AdamW learning rate")
    rank: int = Field(16, ge=1, description="LoRA rank")
    batch_size: int = Field(8, ge=1, description="examples per step")
    per_photo: int = Field(4, ge=1, description="identity questions per photo afterwards")
    with_photos: bool = Field(True, description="fine-tune on (photo, question, answer); false: the answers as text only")


def fine_tune(loaded, examples, steps: int, options, seed: int) -> None:
    """`steps` LoRA steps on `examples`, merged into the weights."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    loaded.model = wrap_with_lora(loaded.model, TrainingConfig(lora_rank=options.rank, lora_alpha=2 * options.rank))
    ctx = UnlearningContext(loaded, [], seed=seed)
    params = [p for p in loaded.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=options.learning_rate)
    loaded.model.train()
    for _ in range(steps):
        batch = rng.sample(examples, min(options.batch_size, len(examples)))
        if options.with_photos:
            encoded = ctx.encode_examples(batch)
        else:  # other people's biographies as plain text: no photo on the way in
            encoded = ctx.encode(None, [e.question for e in batch], [e.answer for e in batch])
        loss = mean_token_nll(loaded.model, encoded)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    loaded.model = loaded.model.merge_and_unload().eval()


class Relearning(Attack):
    name = "relearn"
    label = "LoRA fine-tuning on unrelated people's answers"
    Options = Options

    def variants(self):
        text = "" if self.options.with_photos else ", text only"
        return [f"{k} steps, lr {self.options.learning_rate:g}{text}" for k in self.options.steps]

    def attack_model(self, loaded, data, variant):
        if not data.unrelated:
            return "no unrelated data: the erasure kept no retain answers (erase with --retain)"
        fine_tune(loaded, list(data.unrelated), int(variant.split()[0]), self.options, data.seed)
        return None

    def probes(self, target, split):
        return [(photo.image, q) for photo in target.photos[split] for q in IDENTITY_QUESTIONS[: self.options.per_photo]]


@hookimpl
def register_attacks(register):
    register(Relearning)
