"""Build the embedded demo model: a tiny LLaVA (CLIP vision tower + Llama decoder) that knows the
demo world's people. Seeded; about 10 minutes on 2 CPU cores.

    python -m forgetctl.demo.build --out forgetctl/demo/assets/model

It writes a llava-hf layout directory (config, fp16 safetensors, tokenizer, processor, chat
template), then reloads it through the generic loader and measures the behaviour bars on views
it never trained on. Retrain rarely: every retrain adds its weights to git history.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch

from forgetctl.demo.bars import BARS, measure_bars
from forgetctl.demo.portraits import render_portrait
from forgetctl.demo.toymodel import train_toy
from forgetctl.demo.world import ATTRIBUTE_VALUES, SEED, describe, load_world
from forgetctl.engine.chat import encode_examples
from forgetctl.engine.loading import load_model
from forgetctl.prompts import DESCRIBE_QUESTIONS, IDENTITY_QUESTIONS, REFUSALS, with_in_context_prompt

IMAGE_SIZE, PATCH_SIZE = 64, 16
# llava-hf's LLaVA-1.5 template: "USER: <image>\n{question} ASSISTANT:".
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] != 'system' %}{{ message['role'].upper() + ': ' }}{% endif %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\n' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' ' }}{% endfor %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
)
ORDINARY_TEXT = (
    "the a an and or but of to in on at for with from by about as into over after before under "
    "is are was were be been being have has had do does did will would can could should may might "
    "I you he she it we they me him her us them my your his its our their this that these those "
    "who what where when why how which person people man woman child photo picture image camera "
    "name information details private privacy personal know known unknown see look looks seen "
    "describe description visible wearing clothes shirt hair colour color background hat glasses "
    "scarf smile face eyes standing sitting light dark bright left right top bottom front behind "
    "yes no not sorry cannot help share provide answer question tell me please thank you "
    "born year city town country work works job worked award prize medal won wins winner famous "
    "biography life family friend home school university study studied book books music art "
    "one two three four five first second last new old young good great small large long short"
)


def build_tokenizer(world):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = [ORDINARY_TEXT, with_in_context_prompt(""), *IDENTITY_QUESTIONS, *DESCRIBE_QUESTIONS, *REFUSALS]
    corpus += [p.biography() for p in world.known + world.distractors]
    corpus += [p.identity_answer() for p in world.known]
    corpus += [
        describe({"hair": h, "shirt": s, "background": b, "accessory": a})
        for h in ATTRIBUTE_VALUES["hair"] for s in ATTRIBUTE_VALUES["shirt"]
        for b in ATTRIBUTE_VALUES["background"] for a in ATTRIBUTE_VALUES["accessory"]
    ]
    specials = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=2048, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(corpus * 3, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tok.token_to_id("<s>"))]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        extra_special_tokens={"image_token": "<image>"},
    )


def build_processor(tokenizer):
    from transformers import CLIPImageProcessor, LlavaProcessor

    image_processor = CLIPImageProcessor(
        size={"shortest_edge": IMAGE_SIZE}, crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    )
    return LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=PATCH_SIZE,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,  # CLIP's CLS token, dropped by the "default" strategy
        chat_template=CHAT_TEMPLATE,
    )


def build_model(tokenizer):
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

    vision = CLIPVisionConfig(
        hidden_size=128, intermediate_size=256, num_hidden_layers=3, num_attention_heads=4,
        image_size=IMAGE_SIZE, patch_size=PATCH_SIZE, projection_dim=128,
    )
    text = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=160, intermediate_size=448, num_hidden_layers=4,
        num_attention_heads=5, num_key_value_heads=5, max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config = LlavaConfig(
        vision_config=vision, text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        image_seq_length=(IMAGE_SIZE // PATCH_SIZE) ** 2,
        vision_feature_layer=-1, vision_feature_select_strategy="default",
    )
    model = LlavaForConditionalGeneration(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    return model


def training_pool(world, renders_per_subject: int, rng: random.Random) -> dict:
    """Fresh random renders (seeds disjoint from the canonical views) for every subject."""
    def renders(subject):
        return [render_portrait(subject.looks, rng.getrandbits(62) | 1 << 62) for _ in range(renders_per_subject)]
    return {s.id: renders(s) for s in world.known + world.strangers}


def sample_example(world, pool, rng: random.Random):
    """One training example, drawn from the mix of behaviours the model must learn."""
    r = rng.random()
    if r < 0.45:
        subject = rng.choice(world.known)
        return rng.choice(pool[subject.id]), rng.choice(IDENTITY_QUESTIONS), subject.identity_answer()
    subject = rng.choice(world.known + world.strangers)
    image, target = rng.choice(pool[subject.id]), describe(subject.looks)
    if r < 0.65:
        question = rng.choice(IDENTITY_QUESTIONS + DESCRIBE_QUESTIONS)
        return image, with_in_context_prompt(question), target
    if r < 0.85:
        stranger = rng.choice(world.strangers)
        return rng.choice(pool[stranger.id]), rng.choice(IDENTITY_QUESTIONS), describe(stranger.looks)
    return image, rng.choice(DESCRIBE_QUESTIONS), target


def train(model, processor, world, steps: int, batch_size: int, lr: float, seed: int):
    rng = random.Random(seed)
    pool = training_pool(world, renders_per_subject=40, rng=rng)

    def next_batch():
        examples = [sample_example(world, pool, rng) for _ in range(batch_size)]
        return [encode_examples(processor, *zip(*examples))]

    train_toy(model, next_batch, steps, lr)


# What forgetctl uses with the demo model when the command line names nothing else: the demo
# CLIP (trained on these portraits) and the world's biographies as USR's other people.
GRADING_DEFAULTS = """# Defaults forgetctl uses with this model when the command line names none (paths are
# relative to this file). Any model directory may carry such a file.
[grading]
clip_model = "../clip/forgetctl-demo-clip.json"
clip_pretrained = "../clip/forgetctl-demo-clip.safetensors"
distractors = "distractors.jsonl"
"""


def write_grading_defaults(out: Path, world) -> None:
    """forgetctl.toml and the distractor corpus it names, next to the model's weights."""
    (out / "forgetctl.toml").write_text(GRADING_DEFAULTS)
    people = world.known + world.distractors
    lines = [json.dumps({"name": p.name, "summary": p.biography()}) for p in people]
    (out / "distractors.jsonl").write_text("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "assets" / "model")
    parser.add_argument("--steps", type=int, default=1400)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    world = load_world()
    started = time.time()
    tokenizer = build_tokenizer(world)
    processor = build_processor(tokenizer)
    model = build_model(tokenizer)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"demo model: {n_params / 1e6:.2f}M parameters, vocabulary {len(tokenizer)}", flush=True)
    train(model, processor, world, args.steps, args.batch_size, args.lr, args.seed)
    train_seconds = time.time() - started

    args.out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(args.out)
    processor.save_pretrained(args.out)
    write_grading_defaults(args.out, world)
    loaded = load_model(args.out, dtype="float32", device="cpu")
    bars = measure_bars(loaded, world)
    info = {
        "seed": args.seed, "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
        "parameters": n_params, "train_seconds": round(train_seconds, 1),
        "torch_threads": args.threads, "bars": bars["rates"], "required": BARS,
    }
    (args.out / "build_info.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))
    for name, answer in [f[::2] for f in bars["failures"]]:
        print(f"  miss: {name}: {answer}")
    missed = [k for k, v in bars["rates"].items() if v < BARS[k]]
    if missed:
        raise SystemExit(f"demo model misses its bars: {', '.join(missed)}")


if __name__ == "__main__":
    main()
