"""Build the second world's model: a tiny LLaVA-1.6 (llava_next: CLIP tower + Mistral decoder,
anyres) with a SentencePiece-style BPE tokenizer and a ChatML chat template, taught this world's people.

    python tests/second_world/build.py [--out tests/second_world/assets/model]

Seeded; about 10 minutes on 2 CPU cores. It reloads the result through forgetctl's loader and
measures the bars below on views it never trained on; it stops if one is missed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: the second_world package

from second_world.drawing import SIZE, draw, views  # noqa: E402
from toy_world import build, measure_bars, parse_args  # noqa: E402
from second_world.world import SEED, TRAITS, describe, load_world  # noqa: E402

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


def main(argv=None):
    args = parse_args(__doc__, HERE / "assets" / "model", 1500, argv)
    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    world = load_world()
    tokenizer = build_tokenizer(world)
    processor = build_processor(tokenizer)
    bars = BARS, lambda loaded: measure_bars(loaded, world, views, "nothing", TEXT_ONLY[0], describe_names=True)
    build("second", args, SEED, world, build_model(tokenizer), processor, draw,
          (image_example, text_example), bars)


if __name__ == "__main__":
    main()
