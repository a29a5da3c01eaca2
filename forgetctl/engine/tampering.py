"""What the model-changing attacks do to a model: a few fine-tuning steps, and weight rounding.
The attack plugins say when and with which settings; the tensor work is here, with the engine."""

from __future__ import annotations

import random

import torch

from forgetctl.engine.losses import mean_token_nll
from forgetctl.engine.training import wrap_with_lora
from forgetctl.engine.unlearning import UnlearningContext
from forgetctl.types import Example, TrainingConfig


def fine_tune(loaded, examples: list[Example], steps: int, learning_rate: float, seed: int, *, batch_size: int = 8,
              rank: int | None = 16, with_photos: bool = True) -> None:
    """`steps` AdamW steps on `examples`: a rank-`rank` LoRA merged into the weights afterwards,
    or (rank None) every weight of the model."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    if rank is not None:
        loaded.model = wrap_with_lora(loaded, TrainingConfig(lora_rank=rank, lora_alpha=2 * rank))
    else:
        loaded.model.requires_grad_(True)
    ctx = UnlearningContext(loaded, [], seed=seed)
    params = [p for p in loaded.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate)
    loaded.model.train()
    for _ in range(steps):
        batch = rng.sample(examples, min(batch_size, len(examples)))
        if with_photos:
            encoded = ctx.encode_examples(batch)
        else:  # other people's biographies as plain text: no photo on the way in
            encoded = ctx.encode(None, [e.question for e in batch], [e.answer for e in batch])
        loss = mean_token_nll(loaded.model, encoded)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    if rank is not None:
        loaded.model = loaded.model.merge_and_unload()
    loaded.model.requires_grad_(False)
    loaded.model.eval()


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
