"""Batched greedy (or sampled) generation with left padding, with a photo or text only."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from PIL import Image

from forgetctl.engine import distributed, sharding
from forgetctl.engine.chat import encode_prompts, encode_text_prompts
from forgetctl.engine.images import Photo
from forgetctl.engine.loading import LoadedModel


@torch.no_grad()
def generate_answers(
    loaded: LoadedModel,
    images: Sequence[Image.Image] | None,
    questions: Sequence[str],
    max_new_tokens: int = 48,
    batch_size: int = 16,
    on_batch: Callable[[int], None] | None = None,
    do_sample: bool = False,
    temperature: float = 1.0,
    num_samples: int = 1,
) -> list[str]:
    """Answers for each (image, question) pair, in order, or for each question alone when `images`
    is None (the text-only route): greedy by default, or `num_samples` sampled answers per pair
    (consecutive in the result). `on_batch(n)` reports progress."""
    if images is not None and len(images) != len(questions):
        raise ValueError("images and questions must pair up")
    tokenizer = loaded.processor.tokenizer
    # Sharded (FSDP2): every process steps until all have finished, each step a collective.
    synced = sharding.requested() and sharding.is_sharded(loaded.model)
    answers: list[str] = []
    for start in range(0, len(questions), batch_size):
        chunk = questions[start : start + batch_size]
        if images is None:
            batch = encode_text_prompts(loaded.processor, chunk)
        else:
            batch = encode_prompts(loaded.processor, images[start : start + batch_size], chunk)
        batch = batch.to(loaded.device)
        if "pixel_values" in batch:
            batch["pixel_values"] = batch["pixel_values"].to(loaded.dtype)
        out = loaded.model.generate(
            **batch,
            max_new_tokens=max_new_tokens,
            do_sample=do_sample,
            **({"temperature": temperature, "top_k": 0, "top_p": 1.0} if do_sample else {}),
            num_return_sequences=num_samples,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            synced_gpus=synced,
        )
        new_tokens = out[:, batch["input_ids"].shape[1] :]
        answers.extend(t.strip() for t in tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
        if on_batch:
            on_batch(len(new_tokens) // num_samples)
    return answers


def generate_text_answers(loaded: LoadedModel, questions: Sequence[str], **options) -> list[str]:
    """Greedy answers to questions asked with no photo at all."""
    return generate_answers(loaded, None, questions, **options)


def ask(loaded, photos: list[Photo], questions, advance=None) -> list[list[str]]:
    """Greedy answers to every question on every photo: one list of answers per photo."""
    jobs = [(p, q) for p in photos for q in questions]
    on_batch = distributed.shared_progress(advance)

    def answer(chunk):
        return generate_answers(loaded, [p.image for p, _ in chunk], [q for _, q in chunk], on_batch=on_batch)

    answers = distributed.shard_map(answer, jobs, lockstep=sharding.requested())
    n = len(questions)
    return [answers[i * n : (i + 1) * n] for i in range(len(photos))]
