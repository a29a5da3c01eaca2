"""What every toy LLaVA world shares: the training loop that teaches a freshly initialised model
its world. Each world brings its own people, drawings, tokenizer, chat template and phrasing."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch


def train_toy(model, next_batch: Callable[[], list[dict]], steps: int, lr: float, log_every: int = 25) -> None:
    """AdamW with warm-up and cosine decay. `next_batch()` returns encoded batches whose losses
    are summed for one step (a world may mix image and text-only batches)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))),
    )
    model.train()
    started = time.time()
    for step in range(steps):
        loss = sum(model(**batch).loss for batch in next_batch())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        if step % log_every == 0 or step == steps - 1:
            print(f"step {step:4d}  loss {loss.item():.4f}  {time.time() - started:6.1f}s", flush=True)
    model.eval()
