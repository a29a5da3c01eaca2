"""Quantization: the erased model's weights rounded to int8 and to 4 bits (weight-only,
round-to-nearest, one scale per output channel), then ask again. 4-bit quantization can revive
knowledge that unlearning moved by less than a quantization step (Zhang et al., arXiv 2410.16454)."""

from pydantic import Field

from forgetctl.attacks import Attack, AttackOptions
from forgetctl.host.hookspecs import hookimpl
from forgetctl.prompts import IDENTITY_QUESTIONS


class Options(AttackOptions):
    bits: list[int] = Field([8, 4], description="weight widths, one variant each")
    per_photo: int = Field(4, ge=1, description="identity questions per photo")


class Quantization(Attack):
    name = "quantize"
    label = "weight-only round-to-nearest quantization"
    Options = Options

    def variants(self):
        return [f"int{b}" for b in self.options.bits]

    def attack_model(self, loaded, data, variant):
        from forgetctl.engine.tampering import round_to_nearest  # torch: only when the attack runs

        round_to_nearest(loaded.model, int(variant[3:]))
        return None

    def probes(self, target, split):
        return [(photo.image, q) for photo in target.photos[split] for q in IDENTITY_QUESTIONS[: self.options.per_photo]]


@hookimpl
def register_attacks(register):
    register(Quantization)
