"""Tiny random-initialised models of each supported family, built from their configs in seconds
(no download): a locally trained byte-level BPE tokenizer with the family's special tokens, the
family's own processor class and a chat template in its layout. They know nothing; they exist
to drive every code path a family takes (processor call, positions, LoRA targets, merge, reload).
"""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "who is this person in the photo a person with red hair standing before a blue wall",
    "This is Jane Roe, a pilot born in 1970 who won the Silver Cup.", "describe the picture please",
    "I cannot share personal information about people in photos.",
] * 20

QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                 "<|image_pad|>", "<|video_pad|>"]
QWEN_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% for c in message['content'] %}{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% else %}{{ c['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def tokenizer(specials: list[str], **named):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<pad>", *specials],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", **named)


def qwen(model_type: str, out: Path) -> Path:
    import torch
    import transformers

    torch.manual_seed(0)
    tok = tokenizer(QWEN_SPECIALS, eos_token="<|im_end|>", extra_special_tokens={
        "image_token": "<|image_pad|>", "video_token": "<|video_pad|>",
        "vision_start_token": "<|vision_start|>", "vision_end_token": "<|vision_end|>"})
    ids = {name: tok.convert_tokens_to_ids(f"<|{name}|>") for name in ("image_pad", "video_pad", "vision_start", "vision_end")}
    image = transformers.Qwen2VLImageProcessor(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16, patch_size=14,
                                               merge_size=2, temporal_patch_size=2)
    text = dict(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=1024, eos_token_id=tok.eos_token_id,
                pad_token_id=tok.pad_token_id, bos_token_id=None,
                # Wide initial weights: logits far from uniform, so a wrong position shows in them.
                initializer_range=0.5,
                rope_scaling={"type": "mrope", "mrope_section": [2, 2, 4]})
    if model_type == "qwen2_vl":
        vision = dict(depth=2, embed_dim=32, hidden_size=64, num_heads=2, mlp_ratio=2, patch_size=14,
                      spatial_merge_size=2, temporal_patch_size=2, in_chans=3)
        config_class, model_class, processor_class = (transformers.Qwen2VLConfig, transformers.Qwen2VLForConditionalGeneration,
                                                      transformers.Qwen2VLProcessor)
    else:
        vision = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64, patch_size=14,
                      spatial_merge_size=2, temporal_patch_size=2, in_chans=3, window_size=56, fullatt_block_indexes=[1])
        config_class, model_class, processor_class = (transformers.Qwen2_5_VLConfig,
                                                      transformers.Qwen2_5_VLForConditionalGeneration,
                                                      transformers.Qwen2_5_VLProcessor)
    config = config_class(text_config=text, vision_config=vision, image_token_id=ids["image_pad"],
                          video_token_id=ids["video_pad"], vision_start_token_id=ids["vision_start"],
                          vision_end_token_id=ids["vision_end"])
    processor = processor_class(image_processor=image, tokenizer=tok, chat_template=QWEN_TEMPLATE,
                                video_processor=transformers.Qwen2VLVideoProcessor())
    return save(model_class(config), processor, tok, out)


GEMMA_SPECIALS = ["<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>",
                  "<image_soft_token>"]
GEMMA_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<start_of_turn>{{ 'model' if message['role'] == 'assistant' "
    "else message['role'] }}\n{% for c in message['content'] %}{% if c['type'] == 'image' %}<start_of_image>"
    "{% else %}{{ c['text'] }}{% endif %}{% endfor %}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


def gemma3(out: Path) -> Path:
    import torch
    import transformers

    torch.manual_seed(0)
    tok = tokenizer(GEMMA_SPECIALS, bos_token="<bos>", eos_token="<end_of_turn>", extra_special_tokens={
        "boi_token": "<start_of_image>", "eoi_token": "<end_of_image>", "image_token": "<image_soft_token>"})
    image = transformers.Gemma3ImageProcessor(size={"height": 28, "width": 28}, do_pan_and_scan=False)
    processor = transformers.Gemma3Processor(image_processor=image, tokenizer=tok, chat_template=GEMMA_TEMPLATE,
                                             image_seq_length=4)
    config = transformers.Gemma3Config(
        text_config=dict(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=1024,
                         sliding_window=64, initializer_range=0.5, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=28, patch_size=7),
        mm_tokens_per_image=4, image_token_index=tok.convert_tokens_to_ids("<image_soft_token>"),
        boi_token_index=tok.convert_tokens_to_ids("<start_of_image>"),
        eoi_token_index=tok.convert_tokens_to_ids("<end_of_image>"))
    return save(transformers.Gemma3ForConditionalGeneration(config), processor, tok, out)


ONEVISION_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% for c in message['content'] %}{% if c['type'] == 'image' %}<image>\n{% else %}{{ c['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def llava_onevision(out: Path) -> Path:
    import torch
    import transformers

    torch.manual_seed(0)
    tok = tokenizer(["<|im_start|>", "<|im_end|>", "<image>", "<video>"], eos_token="<|im_end|>",
                    extra_special_tokens={"image_token": "<image>", "video_token": "<video>"})
    grid = [[28, 28], [28, 56], [56, 28], [56, 56]]  # anyres: a base view and up to four tiles
    image = transformers.LlavaOnevisionImageProcessor(size={"height": 28, "width": 28}, image_grid_pinpoints=grid,
                                                      crop_size={"height": 28, "width": 28})
    processor = transformers.LlavaOnevisionProcessor(
        image_processor=image, tokenizer=tok, chat_template=ONEVISION_TEMPLATE, num_image_tokens=16,
        vision_feature_select_strategy="full", video_processor=transformers.LlavaOnevisionVideoProcessor())
    config = transformers.LlavaOnevisionConfig(
        text_config=dict(model_type="qwen2", vocab_size=len(tok), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                         initializer_range=0.5, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id),
        vision_config=dict(model_type="siglip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=2, image_size=28, patch_size=7),
        image_token_index=tok.convert_tokens_to_ids("<image>"), video_token_index=tok.convert_tokens_to_ids("<video>"),
        vision_feature_select_strategy="full", vision_feature_layer=-1, image_grid_pinpoints=grid)
    return save(transformers.LlavaOnevisionForConditionalGeneration(config), processor, tok, out)


MISTRAL_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}[INST]"
    "{% for c in message['content'] %}{% if c['type'] == 'image' %}[IMG]{% else %}{{ c['text'] }}{% endif %}{% endfor %}"
    "[/INST]{% else %}{% for c in message['content'] %}{{ c['text'] }}{% endfor %}{{ eos_token }}{% endif %}{% endfor %}"
)
def mistral3(out: Path) -> Path:
    import torch
    import transformers

    torch.manual_seed(0)
    tok = tokenizer(["<s>", "</s>", "[INST]", "[/INST]", "[IMG]", "[IMG_BREAK]", "[IMG_END]"], bos_token="<s>", eos_token="</s>",
                    extra_special_tokens={"image_token": "[IMG]"})
    image = transformers.PixtralImageProcessor(size={"longest_edge": 28}, patch_size=7)
    processor = transformers.PixtralProcessor(image_processor=image, tokenizer=tok, patch_size=7, spatial_merge_size=2,
                                              chat_template=MISTRAL_TEMPLATE)
    config = transformers.Mistral3Config(
        text_config=dict(model_type="mistral", vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=1024,
                         initializer_range=0.5, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                         bos_token_id=tok.bos_token_id, sliding_window=None),
        vision_config=dict(model_type="pixtral", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=2, image_size=28, patch_size=7, head_dim=16),
        image_token_index=tok.convert_tokens_to_ids("[IMG]"), spatial_merge_size=2, vision_feature_layer=-1)
    return save(transformers.Mistral3ForConditionalGeneration(config), processor, tok, out)


IDEFICS_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}:"
    "{% for c in message['content'] %}{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}{% endif %}{% endfor %}"
    "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}"
)
def idefics3(out: Path) -> Path:
    import torch
    import transformers

    torch.manual_seed(0)
    tok = tokenizer(["<|im_start|>", "<end_of_utterance>", "<image>", "<fake_token_around_image>", "<global-img>"],
                    bos_token="<|im_start|>", eos_token="<end_of_utterance>",
                    extra_special_tokens={"image_token": "<image>", "fake_image_token": "<fake_token_around_image>",
                                          "global_image_token": "<global-img>", "end_of_utterance_token": "<end_of_utterance>"})
    # One image tile per photo (no splitting): the row/column tokens of split images are not needed.
    image = transformers.Idefics3ImageProcessor(size={"longest_edge": 28}, max_image_size={"longest_edge": 28}, do_image_splitting=False)
    processor = transformers.Idefics3Processor(image_processor=image, tokenizer=tok, image_seq_len=4, chat_template=IDEFICS_TEMPLATE)
    config = transformers.Idefics3Config(
        text_config=dict(model_type="llama", vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024, initializer_range=0.5,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=28, patch_size=7),
        image_token_id=tok.convert_tokens_to_ids("<image>"), scale_factor=2, pad_token_id=tok.pad_token_id)
    return save(transformers.Idefics3ForConditionalGeneration(config), processor, tok, out)


def save(model, processor, tok, out: Path) -> Path:
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


BUILDERS = {"qwen2_vl": lambda out: qwen("qwen2_vl", out), "qwen2_5_vl": lambda out: qwen("qwen2_5_vl", out),
            "gemma3": gemma3, "llava_onevision": llava_onevision, "mistral3": mistral3, "idefics3": idefics3}
