"""Batched greedy (or sampled) generation with left padding, with a photo or text only."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from PIL import Image

from forgetctl.engine.chat import encode_prompts, encode_text_prompts
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
        )
        new_tokens = out[:, batch["input_ids"].shape[1] :]
        answers.extend(t.strip() for t in tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
        if on_batch:
            on_batch(len(new_tokens) // num_samples)
    return answers


def generate_text_answers(loaded: LoadedModel, questions: Sequence[str], **options) -> list[str]:
    """Greedy answers to questions asked with no photo at all."""
    return generate_answers(loaded, None, questions, **options)
