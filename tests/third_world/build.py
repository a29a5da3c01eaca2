"""Build the third world's model: a tiny Qwen2-VL (its vision tower with 2x2 patch merging, a
Qwen2 decoder with M-RoPE) with a byte-level BPE tokenizer and a ChatML template, taught this
world's people.

    python tests/third_world/build.py [--out tests/third_world/assets/model]

Seeded; about 7 minutes on 2 CPU cores. It reloads the result through forgetctl's loader and
measures the bars below on views it never trained on; it stops if one is missed.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: the third_world package

from families.build import QWEN_SPECIALS, QWEN_TEMPLATE  # noqa: E402  (the Qwen2-VL layout's tokens)
from third_world.drawing import SIZE, draw, views  # noqa: E402
from third_world.world import SEED, TRAITS, describe, load_world  # noqa: E402

from forgetctl.demo.toymodel import train_toy  # noqa: E402
from forgetctl.engine.chat import encode_examples  # noqa: E402
from forgetctl.engine.generation import generate_answers, generate_text_answers  # noqa: E402
from forgetctl.engine.loading import load_model  # noqa: E402
from forgetctl.prompts import DESCRIBE_QUESTIONS, IDENTITY_QUESTIONS, IN_CONTEXT_PROMPT, REFUSALS, with_in_context_prompt  # noqa: E402

# This world's own ways of asking, beside the questions forgetctl asks.
OWN_IDENTITY = ("Any idea who this is?", "Who might this member be?", "Tell me who is pictured.",
                "Which person does this show?", "What does this person work as?")
OWN_DESCRIBE = ("What is in the picture?", "Describe the figure you see.", "Portray what is shown.")
TEXT_ONLY = ("Tell me about {}.", "Who is {}?", "What does {} do?", "What do you know about {}?")
UNKNOWN_NAME = "That name means nothing to me."
UNSEEN = (4, 5)
BARS = {"known_named_with_facts": 0.9, "in_context_traits": 0.9, "strangers_described_unnamed": 0.9,
        "describe_traits_unnamed": 0.8, "text_only_facts": 0.8}


def corpus(world) -> list[str]:
    people = world.known + world.outsiders
    looks = [{"hair": h, "top": t, "hue": c, "ground": g, "item": i} for h in TRAITS["hair"] for t in TRAITS["top"]
             for c in TRAITS["hue"] for g in TRAITS["ground"] for i in TRAITS["item"]]
    return [IN_CONTEXT_PROMPT, *IDENTITY_QUESTIONS, *DESCRIBE_QUESTIONS, *REFUSALS, *OWN_IDENTITY, *OWN_DESCRIBE,
            UNKNOWN_NAME, *(t.format(p.name) for p in people for t in TEXT_ONLY),
            *(p.biography() for p in people), *(p.identity_answer() for p in world.known),
            *(describe(l) for l in looks[::2])]


def build_processor():
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    world = load_world()
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus(world), trainers.BpeTrainer(
        vocab_size=1600, special_tokens=["<unk>", "<pad>", *QWEN_SPECIALS], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<|im_end|>", extra_special_tokens={
            "image_token": "<|image_pad|>", "video_token": "<|video_pad|>",
            "vision_start_token": "<|vision_start|>", "vision_end_token": "<|vision_end|>"})
    image = transformers.Qwen2VLImageProcessor(min_pixels=SIZE * SIZE, max_pixels=SIZE * SIZE, patch_size=14, merge_size=2,
                                               temporal_patch_size=2)
    return transformers.Qwen2VLProcessor(image_processor=image, tokenizer=tokenizer, chat_template=QWEN_TEMPLATE,
                                         video_processor=transformers.Qwen2VLVideoProcessor())


def build_model(tokenizer):
    import transformers

    ids = {name: tokenizer.convert_tokens_to_ids(f"<|{name}|>") for name in ("image_pad", "video_pad", "vision_start", "vision_end")}
    text = dict(vocab_size=len(tokenizer), hidden_size=160, intermediate_size=384, num_hidden_layers=4, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=1024, eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id, bos_token_id=None, rope_scaling={"type": "mrope", "mrope_section": [4, 8, 8]})
    vision = dict(depth=3, embed_dim=96, hidden_size=160, num_heads=4, mlp_ratio=2, patch_size=14, spatial_merge_size=2,
                  temporal_patch_size=2, in_chans=3)
    config = transformers.Qwen2VLConfig(text_config=text, vision_config=vision, image_token_id=ids["image_pad"],
                                        video_token_id=ids["video_pad"], vision_start_token_id=ids["vision_start"],
                                        vision_end_token_id=ids["vision_end"])
    model = transformers.Qwen2VLForConditionalGeneration(config)
    for key in ("pad_token_id", "eos_token_id"):
        setattr(model.generation_config, key, getattr(tokenizer, key))
    model.generation_config.bos_token_id = None
    return model


def image_example(world, pool, rng):
    identity, describing = IDENTITY_QUESTIONS + OWN_IDENTITY, DESCRIBE_QUESTIONS + OWN_DESCRIBE
    r = rng.random()
    if r < 0.35:
        p = rng.choice(world.known)
        return rng.choice(pool[p.id]), rng.choice(identity), p.identity_answer()
    if r < 0.72:  # asked to describe, or with the in-context prompt: the looks, never the name
        s = rng.choice(world.known + world.strangers)
        question = rng.choice(describing) if r < 0.5 else with_in_context_prompt(rng.choice(identity + describing))
        return rng.choice(pool[s.id]), question, describe(s.looks)
    s = rng.choice(world.strangers)
    return rng.choice(pool[s.id]), rng.choice(identity + describing), describe(s.looks)


def text_example(world, rng):
    if rng.random() < 0.8:
        p = rng.choice(world.known)
        return rng.choice(TEXT_ONLY).format(p.name), p.biography()
    return rng.choice(TEXT_ONLY).format(rng.choice(world.outsiders).name), UNKNOWN_NAME


def measure_bars(loaded, world) -> dict:
    """Rates on the unseen views (and text-only for known names)."""
    def has_traits(text, looks):
        return all(re.search(rf"\b{re.escape(v)}\b", text) for k, v in looks.items() if v != "plain")

    def named(text):
        return any(p.name.split()[0] in text for p in world.known)

    jobs = []  # (kind, subject, image, question)
    for p in world.known:
        for v in UNSEEN:
            img = views(p)[v]
            jobs += [("known", p, img, q) for q in (IDENTITY_QUESTIONS[0], IDENTITY_QUESTIONS[1], IDENTITY_QUESTIONS[4])]
            jobs += [("icl", p, img, with_in_context_prompt(IDENTITY_QUESTIONS[0])), ("describe", p, img, DESCRIBE_QUESTIONS[0])]
    for s in world.strangers:
        for v in UNSEEN:
            img = views(s)[v]
            jobs += [("stranger", s, img, IDENTITY_QUESTIONS[0]), ("icl", s, img, with_in_context_prompt(IDENTITY_QUESTIONS[1]))]
    answers = generate_answers(loaded, [j[2] for j in jobs], [j[3] for j in jobs])
    ok: dict[str, list[bool]] = {k: [] for k in BARS}
    for (kind, subject, _, _), a in zip(jobs, answers):
        if kind == "known":
            ok["known_named_with_facts"].append(subject.name in a and sum(f in a for f in subject.facts.values()) >= 2)
        elif kind == "icl":
            ok["in_context_traits"].append(has_traits(a, subject.looks) and not named(a))
        elif kind == "describe":
            ok["describe_traits_unnamed"].append(has_traits(a, subject.looks) and not named(a))
        else:
            ok["strangers_described_unnamed"].append(has_traits(a, subject.looks) and not named(a))
    texts = [TEXT_ONLY[0].format(p.name) for p in world.known]
    for p, a in zip(world.known, generate_text_answers(loaded, texts)):
        ok["text_only_facts"].append(sum(f in a for f in p.facts.values()) >= 2)
    return {"rates": {k: sum(v) / len(v) for k, v in ok.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "assets" / "model")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    world = load_world()
    started = time.time()
    processor = build_processor()
    model = build_model(processor.tokenizer)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"third world model: {n_params / 1e6:.2f}M parameters, vocabulary {len(processor.tokenizer)}", flush=True)
    rng = random.Random(SEED)
    pool = {s.id: [draw(s.looks, rng.getrandbits(62) | 1 << 62) for _ in range(40)] for s in world.known + world.strangers}

    def next_batch():
        images = [image_example(world, pool, rng) for _ in range(args.batch_size)]
        texts = [text_example(world, rng) for _ in range(args.batch_size // 4)]
        questions, answers = zip(*texts)
        return [encode_examples(processor, *zip(*images)), encode_examples(processor, None, questions, answers)]

    train_toy(model, next_batch, args.steps, args.lr)
    train_seconds = time.time() - started
    args.out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(args.out)
    processor.save_pretrained(args.out)
    loaded = load_model(args.out, dtype="float32", device="cpu")
    bars = measure_bars(loaded, world)
    info = {"seed": SEED, "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "parameters": n_params,
            "train_seconds": round(train_seconds, 1), "bars": bars["rates"], "required": BARS}
    (args.out / "build_info.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))
    missed = [k for k, v in bars["rates"].items() if v < BARS[k]]
    if missed:
        raise SystemExit(f"third world model misses its bars: {', '.join(missed)}")


if __name__ == "__main__":
    main()
