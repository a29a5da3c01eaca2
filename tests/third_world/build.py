"""Build the third world's model: a tiny Qwen2-VL (its vision tower with 2x2 patch merging, a
Qwen2 decoder with M-RoPE) with a byte-level BPE tokenizer and a ChatML template, taught this
world's people.

    python tests/third_world/build.py [--out tests/third_world/assets/model]

Seeded; about 7 minutes on 2 CPU cores. It reloads the result through forgetctl's loader and
measures the bars below on views it never trained on; it stops if one is missed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: the third_world package

from families.build import QWEN_SPECIALS, QWEN_TEMPLATE  # noqa: E402  (the Qwen2-VL layout's tokens)
from third_world.drawing import SIZE, draw, views  # noqa: E402
from toy_world import build, measure_bars, parse_args  # noqa: E402
from third_world.world import SEED, TRAITS, describe, load_world  # noqa: E402

from forgetctl.prompts import DESCRIBE_QUESTIONS, IDENTITY_QUESTIONS, IN_CONTEXT_PROMPT, REFUSALS, with_in_context_prompt  # noqa: E402

# This world's own ways of asking, beside the questions forgetctl asks.
OWN_IDENTITY = ("Any idea who this is?", "Who might this member be?", "Tell me who is pictured.",
                "Which person does this show?", "What does this person work as?")
OWN_DESCRIBE = ("What is in the picture?", "Describe the figure you see.", "Portray what is shown.")
TEXT_ONLY = ("Tell me about {}.", "Who is {}?", "What does {} do?", "What do you know about {}?")
UNKNOWN_NAME = "That name means nothing to me."
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


def main(argv=None):
    args = parse_args(__doc__, HERE / "assets" / "model", 1000, argv)
    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    world = load_world()
    processor = build_processor()
    bars = BARS, lambda loaded: measure_bars(loaded, world, views, "plain", TEXT_ONLY[0], describe_names=False)
    build("third", args, SEED, world, build_model(processor.tokenizer), processor, draw,
          (image_example, text_example), bars)


if __name__ == "__main__":
    main()
