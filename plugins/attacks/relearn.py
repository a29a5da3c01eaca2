"""Relearning: a few fine-tuning steps on data the erasure never trained on, then ask again.
Published attacks bring most "forgotten" knowledge back this way (Hu et al., arXiv 2406.13356;
Deeb & Roger; Lucki et al.). The default data are invented people no model can know
(`outsiders`); `data = "retain"` fine-tunes on the erasure's retain people's own answers
instead, which the erasure already trained towards and so brings back less. Each step count runs
as LoRA and (unless `full = false`) as full fine-tuning of every weight."""

from typing import Literal

from pydantic import Field

from forgetctl.attacks import Attack, AttackOptions
from forgetctl.host.hookspecs import hookimpl
from forgetctl.prompts import IDENTITY_QUESTIONS
from forgetctl_plugins.attacks.outsiders import outsiders


class Options(AttackOptions):
    steps: list[int] = Field([10, 30], description="fine-tuning steps, one variant each")
    learning_rate: float = Field(1e-3, gt=0, description="AdamW learning rate of the LoRA variants")
    full: bool = Field(True, description="also fine-tune every weight, not only a LoRA, per step count")
    full_learning_rate: float = Field(1e-4, gt=0, description="AdamW learning rate of full fine-tuning")
    rank: int = Field(16, ge=1, description="LoRA rank")
    batch_size: int = Field(8, ge=1, description="examples per step")
    data: Literal["outsiders", "retain"] = Field("outsiders", description="invented people, or the erasure's retain answers")
    people: int = Field(16, ge=1, description="invented people to fine-tune on (data = outsiders)")
    per_photo: int = Field(4, ge=1, description="identity questions per photo afterwards")
    with_photos: bool = Field(True, description="fine-tune on (photo, question, answer); false: the answers as text only")


class Relearning(Attack):
    name = "relearn"
    label = "fine-tuning on data the erasure never saw"
    Options = Options

    def plan(self) -> dict[str, tuple[int, float, bool]]:
        """Variant name -> (steps, learning rate, full fine-tuning)."""
        o = self.options
        data = "invented people" if o.data == "outsiders" else "retain answers"
        text = ", text only" if not o.with_photos else ""
        out = {}
        for k in o.steps:
            out[f"{k} steps, LoRA lr {o.learning_rate:g}, {data}{text}"] = (k, o.learning_rate, False)
            if o.full:
                out[f"{k} steps, full lr {o.full_learning_rate:g}, {data}{text}"] = (k, o.full_learning_rate, True)
        return out

    def variants(self):
        return list(self.plan())

    def attack_model(self, loaded, data, variant):
        examples = outsiders(self.options.people, data.seed) if self.options.data == "outsiders" else list(data.unrelated)
        if not examples:
            return "no unrelated data: the erasure kept no retain answers (erase with --retain, or data = \"outsiders\")"
        from forgetctl.engine.tampering import fine_tune  # torch: only when the attack runs

        steps, learning_rate, full = self.plan()[variant]
        fine_tune(loaded, examples, steps, learning_rate, data.seed, batch_size=self.options.batch_size,
                  rank=None if full else self.options.rank, with_photos=self.options.with_photos)
        return None

    def probes(self, target, split):
        return [(photo.image, q) for photo in target.photos[split] for q in IDENTITY_QUESTIONS[: self.options.per_photo]]


@hookimpl
def register_attacks(register):
    register(Relearning)
