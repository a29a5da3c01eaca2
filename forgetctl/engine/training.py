"""LoRA wrapping and the unlearning loop. The loop adds the same retain loss to every method
(PUBG eq. 12), so methods differ only in their forget loss. Under `accelerate launch` the loop is
data-parallel: accelerate wraps the model in DDP (or forgetctl shards it, FSDP2) and each process
trains on its slice of every global batch (see `forgetctl.engine.distributed` and `.sharding`)."""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import contextmanager, nullcontext

import torch

from forgetctl.engine import distributed, sharding
from forgetctl.engine.families import FAMILIES, lora_target
from forgetctl.engine.losses import mean_token_nll
from forgetctl.engine.unlearning import UnlearningContext
from forgetctl.engine.watch import score as watch_score
from forgetctl.methods import UnlearningMethod
from forgetctl.types import Example, TrainingConfig


def wrap_with_lora(loaded, config: TrainingConfig):
    """The loaded model in LoRA, on the layers its family keeps its language model (and, if asked,
    its projector) in."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        target_modules=lora_target(FAMILIES[loaded.model_type], config.lora_targets), bias="none",
    )
    return get_peft_model(loaded.model, lora)


def batches(examples: list[Example], size: int, rng: random.Random):
    """Endless shuffled passes over the examples, `size` at a time."""
    order: list[Example] = []
    while True:
        if len(order) < size:
            fresh = list(examples)
            rng.shuffle(fresh)
            order += fresh
        yield order[:size]
        del order[:size]


def with_held(retain_batches, held: list[Example], size: int, rng: random.Random):
    """Each retain batch with `size` held examples beside it: however many earlier people a
    lineage holds, a step costs the same, and the retain people keep their full share."""
    held_batches = batches(held, size, rng)
    for batch in retain_batches:
        yield batch + next(held_batches)


def step_losses(ctx, method, forget, retain, retain_weight: float):
    """The method's forget loss plus the same retain loss for every method (PUBG eq. 12)."""
    forget_loss = method.loss(ctx, forget)
    retain_loss = mean_token_nll(ctx.model, ctx.encode_examples(retain))
    return forget_loss + retain_weight * retain_loss, forget_loss, retain_loss


@contextmanager
def sharpest_nearby(params: list[torch.Tensor], rho: float):
    """SAM's ascent step: move the weights `rho` along their gradient (the locally worst point),
    clear the gradients for the loss computed there, and move back on exit; the optimizer then
    steps with the gradient taken at the worst point."""
    grads = [p.grad for p in params]
    norm = torch.norm(torch.stack([g.norm() for g in grads if g is not None])) + 1e-12
    moves = [None if g is None else rho * g / norm for g in grads]
    with torch.no_grad():
        for p, move in zip(params, moves):
            if move is not None:
                p.add_(move)
            p.grad = None
    try:
        yield
    finally:
        with torch.no_grad():
            for p, move in zip(params, moves):
                if move is not None:
                    p.sub_(move)


class BestStep:
    """The trainable weights as they were at the best watched step: the lowest score, the later
    of equal ones (more unlearning for the same verdict)."""

    def __init__(self, params: list[torch.Tensor]):
        self.params = params
        self.step: int | None = None
        self.score: tuple | None = None
        self._saved: list[torch.Tensor] = []

    def offer(self, step: int, score: tuple) -> None:
        if self.score is None or score <= self.score:
            self.step, self.score = step, score
            self._saved = [p.detach().clone() for p in self.params]

    def restore(self) -> None:
        with torch.no_grad():
            for p, saved in zip(self.params, self._saved):
                p.copy_(saved)


def watched_steps(config: TrainingConfig) -> set[int]:
    """Every `watch_every` steps, and the last (0: none, the last step is kept)."""
    if not config.watch_every:
        return set()
    return set(range(config.watch_every - 1, config.steps, config.watch_every)) | {config.steps - 1}


def prepare(acc, model, learning_rate: float):
    """The model to train, the parameters the optimizer steps, and the optimizer. One process: the
    model as it came. Several: wrapped in DDP by accelerate, or sharded (FSDP2). The parameters are
    taken after either: sharding replaces them, and clipping, SAM, the kept step and the
    cross-process check must act on the ones the optimizer steps."""
    if sharding.requested():
        if not sharding.is_sharded(model):  # sharded at load by `erase`; not by every caller
            model = sharding.shard(model, distributed.device())
        params = [p for p in model.parameters() if p.requires_grad]
        return model, params, torch.optim.AdamW(params, lr=learning_rate)
    trainable = [p for p in model.parameters() if p.requires_grad]
    model, optimizer = acc.prepare(model, torch.optim.AdamW(trainable, lr=learning_rate))
    return model, [p for p in model.parameters() if p.requires_grad], optimizer


def gradient_sync(acc, model, on: bool):
    """Gradients are averaged across processes once per step, on its last micro-batch."""
    if on:
        return nullcontext()
    return sharding.gradient_sync(model, False) if sharding.is_sharded(model) else acc.no_sync(model)


def one_step(acc, ctx, method, streams, config: TrainingConfig, params, optimizer, autocast, step: int) -> dict:
    """One optimizer step: `grad_accum_steps` micro-batches from the (forget, retain) batch
    streams, SAM's second pass if asked for, clipping; the losses of the global batch."""
    forget_batches, retain_batches = streams
    for micro in range(config.grad_accum_steps):
        sync = gradient_sync(acc, ctx.model, micro == config.grad_accum_steps - 1)
        batch = distributed.local_slice(next(forget_batches)), distributed.local_slice(next(retain_batches))
        with sync:
            with autocast:
                loss, forget_loss, retain_loss = step_losses(ctx, method, *batch, config.retain_weight)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} at step {step}; lower the learning rate")
            acc.backward(loss / config.grad_accum_steps)
    if config.sam_rho > 0:  # grad_accum_steps is 1 (checked when the request is validated)
        with sharpest_nearby(params, config.sam_rho), autocast:
            acc.backward(step_losses(ctx, method, *batch, config.retain_weight)[0])
    torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)  # a shard's norm is the whole one's
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    losses = acc.reduce(torch.stack([loss, forget_loss, retain_loss]).detach().float(), "mean").tolist()
    return dict(zip(("loss", "forget_loss", "retain_loss"), losses))


def train_adapter(
    ctx: UnlearningContext,
    method: UnlearningMethod,
    forget: list[Example],
    retain: list[Example],
    config: TrainingConfig,
    learning_rate: float,
    on_step: Callable[[dict], None] | None = None,
    watch: Callable[[], dict] | None = None,
    held: list[Example] = (),
) -> list[dict]:
    """Run the loop on `ctx.model` (already LoRA-wrapped); return the per-step loss log (losses
    averaged over the processes: the loss of the global batch). With `watch`, the model is asked
    again at the watched steps (`watch()` says what it heard) and the adapter of the best of them
    is kept; the log marks that step `kept`. `held`: answers to keep beside the retain ones (half
    a batch of them in each step's retain loss)."""
    acc = distributed.accelerator()
    rng = random.Random(config.seed)  # batch order; torch was seeded before LoRA init (erase.prepare)
    model = ctx.model
    on_cuda = ctx.loaded.device.type == "cuda"
    if config.gradient_checkpointing if config.gradient_checkpointing is not None else on_cuda:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    autocast = torch.autocast(ctx.loaded.device.type, dtype=torch.bfloat16, enabled=on_cuda)
    ctx.model, params, optimizer = prepare(acc, model, learning_rate)
    # Every process draws the same global batches (same seed) and keeps its own slice of each.
    streams = batches(forget, config.batch_size, rng), batches(retain, config.batch_size, rng)
    if held:
        streams = streams[0], with_held(streams[1], list(held), max(config.batch_size // 2, 1), rng)
    log = []
    best, watching = BestStep(params), watched_steps(config) if watch else set()
    ctx.model.train()
    try:
        for step in range(config.steps):
            entry = {"step": step, **one_step(acc, ctx, method, streams, config, params, optimizer, autocast, step)}
            if step in watching:
                model.eval()
                entry["watch"] = watch()
                model.train()
                best.offer(step, watch_score(entry["watch"]))
            log.append(entry)
            if on_step:
                on_step(entry)
    finally:
        ctx.model = model
        acc.free_memory()  # the Accelerator lives as long as the process; the run's model must not
    if best.step is not None:
        if best.step != log[-1]["step"]:
            best.restore()
        log[best.step]["kept"] = True
    sharding.check_in_sync(params)
    model.eval()
    return log
