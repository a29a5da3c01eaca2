"""Turn (image, question[, answer]) into model inputs through the model's own chat template.

Training and generation share this one path, so what the model is trained on is exactly what it
is later asked.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from PIL import Image
from transformers import BatchFeature

from forgetctl.engine.families import family_of_processor

IGNORE_INDEX = -100


def chat_prompt(processor, question: str, with_image: bool = True) -> str:
    content = ([{"type": "image"}] if with_image else []) + [{"type": "text", "text": question}]
    return processor.apply_chat_template(
        [{"role": "user", "content": content}], add_generation_prompt=True
    )


def encode_prompts(processor, images: Sequence[Image.Image], questions: Sequence[str]) -> dict:
    """Left-padded prompts ready for `generate`, with the images as the family's processor wants them."""
    texts = [chat_prompt(processor, q) for q in questions]
    nested = family_of_processor(processor).images_per_prompt
    return processor(images=[[i] for i in images] if nested else list(images), text=texts, padding=True, return_tensors="pt")


def encode_text_prompts(processor, questions: Sequence[str]):
    """Left-padded prompts with no image, through the same chat template."""
    texts = [chat_prompt(processor, q, with_image=False) for q in questions]
    return processor.tokenizer(texts, padding=True, return_tensors="pt")


def encode_examples(
    processor, images: Sequence[Image.Image] | None, questions: Sequence[str], answers: Sequence[str]
) -> BatchFeature:
    """Prompt + answer + EOS, with labels only on the answer tokens (the prompt is never trained);
    text-only when `images` is None.

    Returns position_ids as well, for families that take them: with left padding the real tokens
    must start at position 0, as they do in `generate`. A family that builds its own positions
    (M-RoPE) gets none: it computes them from the image grid and the mask, as `generate` does.
    """
    tokenizer = processor.tokenizer
    prompts = encode_text_prompts(processor, questions) if images is None else encode_prompts(processor, images, questions)
    answer_ids = [
        tokenizer(" " + a.strip(), add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        for a in answers
    ]
    # Per-token side channels of some processors (token types that mark image tokens, for M-RoPE
    # and Gemma 3's attention) follow the tokens: answer tokens are text (0).
    per_token = [k for k, v in prompts.items() if k not in ("input_ids", "attention_mask")
                 and hasattr(v, "shape") and tuple(v.shape) == tuple(prompts["input_ids"].shape)]
    rows, labels, sides = [], [], {k: [] for k in per_token}
    for i, (prompt_ids, prompt_mask, ans) in enumerate(zip(prompts["input_ids"], prompts["attention_mask"], answer_ids)):
        real = prompt_ids[prompt_mask.bool()].tolist()
        rows.append(real + ans)
        labels.append([IGNORE_INDEX] * len(real) + ans)
        for k in per_token:
            sides[k].append(prompts[k][i][prompt_mask.bool()].tolist() + [0] * len(ans))
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id
    input_ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])
    label_ids = torch.tensor([[IGNORE_INDEX] * (width - len(l)) + l for l in labels])
    attention_mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    batch = {k: v for k, v in prompts.items() if k not in ("input_ids", "attention_mask", *per_token)}
    batch.update({k: torch.tensor([[0] * (width - len(r)) + r for r in rows_of]) for k, rows_of in sides.items()})
    batch.update(input_ids=input_ids, attention_mask=attention_mask, labels=label_ids)
    if not family_of_processor(processor).builds_positions:
        batch["position_ids"] = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    return BatchFeature(batch)
