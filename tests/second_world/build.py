"""Build the second world's model: a tiny LLaVA-1.6 (llava_next: CLIP tower + Mistral decoder,
anyres) with a SentencePiece-style BPE tokenizer and a ChatML chat template, taught this world's people.

    python tests/second_world/build.py [--out tests/second_world/assets/model]

Seeded; about 10 minutes on 2 CPU cores. It reloads the result through forgetctl's loader and
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
sys.path.insert(0, str(HERE.parent))  # tests/: the second_world package

from second_world.drawing import SIZE, draw, views  # noqa: E402
from second_world.world import SEED, TRAITS, describe, load_world  # noqa: E402

from forgetctl.demo.toymodel import train_toy  # noqa: E402
from forgetctl.engine.chat import encode_examples  # noqa: E402
from forgetctl.engine.generation import generate_answers, generate_text_answers  # noqa: E402
from forgetctl.engine.loading import load_model  # noqa: E402
from forgetctl.prompts import DESCRIBE_QUESTIONS, IDENTITY_QUESTIONS, IN_CONTEXT_PROMPT, REFUSALS, with_in_context_prompt  # noqa: E402

PATCH = 12
IMAGE_TOKEN = "<img>"
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<img>\n' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] }}{% endfor %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# This world's own ways of asking, beside the questions forgetctl asks.
OWN_IDENTITY = ("Who's that?", "Do you recognise them?", "Whose picture is this?", "Name the person shown.",
                "What is this person known for?", "Who are we looking at here?")
OWN_DESCRIBE = ("What can you see?", "Give a description of the figure.", "How does this person appear?")
TEXT_ONLY = ("Tell me about {}.", "Who is {}?", "What does {} do?", "What do you know about {}?")
UNKNOWN_NAME = "I have no record of anyone by that name."
UNSEEN = (4, 5)
BARS = {"known_named_with_facts": 0.9, "in_context_traits": 0.9, "strangers_described_unnamed": 0.9,
        "describe_names_known": 0.8, "text_only_facts": 0.8}


def corpus(world) -> list[str]:
    people = world.known + world.outsiders
    looks = [{"hair": h, "garment": g, "colour": c, "backdrop": b, "extra": e} for h in TRAITS["hair"]
             for g in TRAITS["garment"] for c in TRAITS["colour"] for b in TRAITS["backdrop"] for e in TRAITS["extra"]]
    return [IN_CONTEXT_PROMPT, *IDENTITY_QUESTIONS, *DESCRIBE_QUESTIONS, *REFUSALS, *OWN_IDENTITY, *OWN_DESCRIBE,
            UNKNOWN_NAME, *(t.format(p.name) for p in people for t in TEXT_ONLY),
            *(p.biography() for p in people), *(p.identity_answer() for p in world.known),
            *(describe(l) for l in looks[::3])]


def build_tokenizer(world):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<unk>", "<|bos|>", "<|im_start|>", "<|im_end|>", IMAGE_TOKEN]
    # SentencePiece-style BPE over "▁"-marked words (the demo's is GPT-2-style byte-level BPE).
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace("\n", " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(corpus(world), trainers.BpeTrainer(vocab_size=1600, special_tokens=specials))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|bos|>", eos_token="<|im_end|>", unk_token="<unk>", pad_token="<pad>",
        extra_special_tokens={"image_token": IMAGE_TOKEN},
    )


def build_processor(tokenizer):
    from transformers import LlavaNextImageProcessor, LlavaNextProcessor

    image_processor = LlavaNextImageProcessor(
        size={"shortest_edge": SIZE}, crop_size={"height": SIZE, "width": SIZE}, image_grid_pinpoints=[[SIZE, SIZE]],
    )
    return LlavaNextProcessor(
        image_processor=image_processor, tokenizer=tokenizer, patch_size=PATCH, vision_feature_select_strategy="default",
        num_additional_image_tokens=1, chat_template=CHAT_TEMPLATE,
    )


def build_model(tokenizer):
    from transformers import CLIPVisionConfig, LlavaNextConfig, LlavaNextForConditionalGeneration, MistralConfig

    config = LlavaNextConfig(
        vision_config=CLIPVisionConfig(hidden_size=96, intermediate_size=192, num_hidden_layers=3,
                                       num_attention_heads=4, image_size=SIZE, patch_size=PATCH, projection_dim=96),
        text_config=MistralConfig(vocab_size=len(tokenizer), hidden_size=160, intermediate_size=384,
                                  num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
                                  max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
                                  bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id),
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN), image_grid_pinpoints=[[SIZE, SIZE]],
        vision_feature_layer=-1, vision_feature_select_strategy="default",
    )
    model = LlavaNextForConditionalGeneration(config)
    for key in ("pad_token_id", "eos_token_id", "bos_token_id"):
        setattr(model.generation_config, key, getattr(tokenizer, key))
    return model


def image_example(world, pool, rng):
    identity, describing = IDENTITY_QUESTIONS + OWN_IDENTITY, DESCRIBE_QUESTIONS + OWN_DESCRIBE
    r = rng.random()
    if r < 0.35:
        p = rng.choice(world.known)
        return rng.choice(pool[p.id]), rng.choice(identity), p.identity_answer()
    if r < 0.50:
        p = rng.choice(world.known)
        return rng.choice(pool[p.id]), rng.choice(describing), p.describe_known()
    if r < 0.72:
        s = rng.choice(world.known + world.strangers)
        return rng.choice(pool[s.id]), with_in_context_prompt(rng.choice(identity + describing)), describe(s.looks)
    s = rng.choice(world.strangers)
    return rng.choice(pool[s.id]), rng.choice(identity + describing), describe(s.looks)


def text_example(world, rng):
    if rng.random() < 0.8:
        p = rng.choice(world.known)
        return rng.choice(TEXT_ONLY).format(p.name), rng.choice((p.identity_answer()[len("That's "):], p.biography()))
    return rng.choice(TEXT_ONLY).format(rng.choice(world.outsiders).name), UNKNOWN_NAME


def measure_bars(loaded, world) -> dict:
    """Rates on the unseen views (and text-only for known names)."""
    def has_traits(text, looks):
        return all(re.search(rf"\b{re.escape(v)}\b", text) for k, v in looks.items() if k != "extra" or v != "nothing")

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
            ok["describe_names_known"].append(subject.name in a and has_traits(a, subject.looks))
        else:
            ok["strangers_described_unnamed"].append(has_traits(a, subject.looks) and not named(a))
    texts = [TEXT_ONLY[0].format(p.name) for p in world.known]
    for p, a in zip(world.known, generate_text_answers(loaded, texts)):
        ok["text_only_facts"].append(sum(f in a for f in p.facts.values()) >= 2)
    return {"rates": {k: sum(v) / len(v) for k, v in ok.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "assets" / "model")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    world = load_world()
    started = time.time()
    tokenizer = build_tokenizer(world)
    processor = build_processor(tokenizer)
    model = build_model(tokenizer)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"second world model: {n_params / 1e6:.2f}M parameters, vocabulary {len(tokenizer)}", flush=True)
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
        raise SystemExit(f"second world model misses its bars: {', '.join(missed)}")


if __name__ == "__main__":
    main()
