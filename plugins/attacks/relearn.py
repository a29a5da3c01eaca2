"""Relearning: a few LoRA fine-tuning steps on data unrelated to the person (the retain people's
own answers), then ask again. Published attacks bring most "forgotten" knowledge back this way
(Hu et al., arXiv 2406.13356; Deeb & Roger; Lucki et al.)."""

from pydantic import Field

from forgetctl.attacks import Attack, AttackOptions
from forgetctl.host.hookspecs import hookimpl
from forgetctl.prompts import IDENTITY_QUESTIONS


class Options(AttackOptions):
    steps: list[int] = Field([10, 30], description="fine-tuning steps, one variant each")
    learning_rate: float = Field(1e-3, gt=0, description="AdamW learning rate")
    rank: int = Field(16, ge=1, description="LoRA rank")
    batch_size: int = Field(8, ge=1, description="examples per step")
    per_photo: int = Field(4, ge=1, description="identity questions per photo afterwards")
    with_photos: bool = Field(True, description="fine-tune on (photo, question, answer); false: the answers as text only")


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
        from forgetctl.engine.tampering import fine_tune  # torch: only when the attack runs

        fine_tune(loaded, list(data.unrelated), int(variant.split()[0]), self.options, data.seed)
        return None

    def probes(self, target, split):
        return [(photo.image, q) for photo in target.photos[split] for q in IDENTITY_QUESTIONS[: self.options.per_photo]]


@hookimpl
def register_attacks(register):
    register(Relearning)
