"""Quantization: the erased model's weights rounded to int8 and to 4 bits (weight-only,
round-to-nearest, one scale per output channel), then ask again. 4-bit quantization can revive
knowledge that unlearning moved by less than a quantization step (Zhang et al., arXiv 2410.16454)."""

import torch
from pydantic import Field

from forgetctl.attacks import Attack, AttackOptions
from forgetctl.host.hookspecs import hookimpl
from forgetctl.prompts import IDENTITY_QUESTIONS


class Options(AttackOptions):
    bits: list[int] = Field([8, 4], description="weight widths, one variant each")
    per_photo: int = Field(4, ge=1, description="identity questions per photo")


@torch.no_grad()
def round_to_nearest(model, bits: int) -> int:
    """Quantize every linear layer's weights in place (symmetric, per output channel) and
    dequantize them, as a weight-only quantized model computes. Returns the layers changed."""
    top = 2 ** (bits - 1) - 1
    changed = 0
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            weight = module.weight
            scale = weight.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / top
            weight.copy_((weight / scale).round().clamp(-top - 1, top) * scale)
            changed += 1
    return changed


class Quantization(Attack):
    name = "quantize"
    label = "weight-only round-to-nearest quantization"
    Options = Options

    def variants(self):
        return [f"int{b}" for b in self.options.bits]

    def attack_model(self, loaded, data, variant):
        round_to_nearest(loaded.model, int(variant[3:]))
        return None

    def probes(self, target, split):
        return [(photo.image, q) for photo in target.photos[split] for q in IDENTITY_QUESTIONS[: self.options.per_photo]]


@hookimpl
def register_attacks(register):
    register(Quantization)
