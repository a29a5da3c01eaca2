import json

import pytest
import torch
from transformers import LlavaForConditionalGeneration

from forgetctl.demo import demo_model_dir
from forgetctl.demo.bars import BARS, measure_bars
from forgetctl.demo.world import load_world
from forgetctl.engine.loading import load_model
from forgetctl.errors import ModelLoadError


def test_demo_model_loads_through_the_generic_loader(demo_model):
    assert isinstance(demo_model.model, LlavaForConditionalGeneration)
    assert demo_model.model_type == "llava"
    assert demo_model.dtype == torch.float32  # fp16 on disk, fp32 on CPU
    assert demo_model.processor.tokenizer.padding_side == "left"


def test_shipped_weights_are_small():
    size = sum(f.stat().st_size for f in demo_model_dir().iterdir())
    assert size <= 20 * 1024 * 1024


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda d: None, "has no config.json"),
        (lambda d: (d / "config.json").write_text('{"model_type": "bert"}'), "'bert' model"),
        (lambda d: (d / "config.json").write_text("{not json"), "not valid JSON"),
        (lambda d: (d / "config.json").write_text('{"model_type": "llava"}'), "has no weights"),
    ],
)
def test_not_a_llava_directory_is_refused_with_what_is_missing(tmp_path, setup, message):
    setup(tmp_path)
    with pytest.raises(ModelLoadError, match=message):
        load_model(tmp_path)


def test_missing_processor_is_named(tmp_path):
    for f in demo_model_dir().iterdir():
        if f.name not in ("preprocessor_config.json", "processor_config.json"):
            (tmp_path / f.name).write_bytes(f.read_bytes())
    with pytest.raises(ModelLoadError, match="no image processor"):
        load_model(tmp_path)


@pytest.mark.slow
def test_shipped_model_meets_its_behaviour_bars_on_unseen_views(demo_model):
    result = measure_bars(demo_model, load_world())
    for bar, required in BARS.items():
        assert result["rates"][bar] >= required, (bar, result["rates"], result["failures"])
    recorded = json.loads((demo_model_dir() / "build_info.json").read_text())["bars"]
    assert recorded == pytest.approx(result["rates"])


def test_a_llava_next_directory_loads_through_the_same_loader(tmp_path):
    """LLaVA-1.6 (the paper's models) is llava_next: build a tiny one in the llava-hf layout."""
    from transformers import (
        AutoTokenizer,
        CLIPVisionConfig,
        LlavaNextConfig,
        LlavaNextForConditionalGeneration,
        LlavaNextImageProcessor,
        LlavaNextProcessor,
        MistralConfig,
    )

    from forgetctl.engine.families import family
    from forgetctl.engine.loading import model_family

    tokenizer = AutoTokenizer.from_pretrained(demo_model_dir())
    config = LlavaNextConfig(
        vision_config=CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                       num_attention_heads=2, image_size=28, patch_size=14),
        text_config=MistralConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                  num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"), image_grid_pinpoints=[[28, 28], [28, 56]],
    )
    LlavaNextForConditionalGeneration(config).save_pretrained(tmp_path)
    image_processor = LlavaNextImageProcessor(
        size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28}, image_grid_pinpoints=[[28, 28], [28, 56]]
    )
    LlavaNextProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=14,
                       vision_feature_select_strategy="default",
                       chat_template=demo_model_dir().joinpath("chat_template.jinja").read_text()).save_pretrained(tmp_path)
    loaded = load_model(tmp_path, device="cpu")
    assert type(loaded.model).__name__ == "LlavaNextForConditionalGeneration"
    assert loaded.model_type == "llava_next" and model_family(loaded) == "tiny"
    # The same architecture at 7B picks PUBG Table 6's rates.
    assert family("llava_next", "mistral", 7_000_000_000) == "llava-1.6-mistral"
    assert family("llava_next", "llama", 7_000_000_000) == "llava-1.6-vicuna"
