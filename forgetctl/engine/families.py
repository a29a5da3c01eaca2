"""Which model folders forgetctl can load, told from their files alone (no torch): the families
it supports, how each one is driven, and how a model's size and layout choose its learning rate.

One row per family says everything the engine must do differently for it, so nothing else in the
engine tests a model type: which class loads it, which processor drives it, whether it builds its
own positions (M-RoPE: handing it 2-D positions would train it on image patches at text
positions while generation uses the real ones), whether its processor wants one list of images
per prompt, and where its language model's and projector's linear layers live (LoRA's targets).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from forgetctl.errors import ModelLoadError


@dataclass(frozen=True)
class Family:
    model_class: str  # transformers class
    processor_class: str  # the processor that drives it (how chat.py tells the family apart)
    builds_positions: bool = False  # computes its own (3-D) positions from the image grid
    images_per_prompt: bool = False  # the processor wants [[image], [image], ...]
    text_model: str = "language_model"  # module path part of the decoder whose linears LoRA trains
    # The image-to-text projection's linear layers (LoRA on it is an option); None: it has none
    # (Gemma 3 projects with a bare weight matrix).
    projector: str | None = r"multi_modal_projector\.linear_\d+"


# model_type in config.json -> its family. LLaVA-1.6 (the paper's models) is llava_next. Each row
# has a tiny-model test in tests/test_families.py.
QWEN_MERGER = r"visual\.merger\.mlp\.[02]"  # the merger's two linears (mlp.1 is its GELU)
FAMILIES = {
    "llava": Family("LlavaForConditionalGeneration", "LlavaProcessor"),
    "llava_next": Family("LlavaNextForConditionalGeneration", "LlavaNextProcessor"),
    "llava_onevision": Family("LlavaOnevisionForConditionalGeneration", "LlavaOnevisionProcessor"),
    "qwen2_vl": Family("Qwen2VLForConditionalGeneration", "Qwen2VLProcessor", builds_positions=True, projector=QWEN_MERGER),
    "qwen2_5_vl": Family("Qwen2_5_VLForConditionalGeneration", "Qwen2_5_VLProcessor", builds_positions=True,
                         projector=QWEN_MERGER),
    "gemma3": Family("Gemma3ForConditionalGeneration", "Gemma3Processor", images_per_prompt=True, projector=None),
    # Mistral Small 3.x: a Pixtral vision tower, its patch merger and projector before the Mistral decoder.
    "mistral3": Family("Mistral3ForConditionalGeneration", "PixtralProcessor",
                       projector=r"multi_modal_projector\.(linear_\d+|patch_merger\.merging_layer)"),
    # Idefics3 and SmolVLM: the decoder is the `text_model`, the connector one linear projection.
    "idefics3": Family("Idefics3ForConditionalGeneration", "Idefics3Processor", text_model="text_model",
                       projector=r"connector\.modality_projection\.proj"),
}
SUPPORTED_MODEL_TYPES = {model_type: f.model_class for model_type, f in FAMILIES.items()}

# Where LoRA goes: the language model's linear layers (the paper's choice), or also the projector
# that turns image features into its inputs (a defence to measure: the erasure reaches the visual
# route itself). Never the vision tower.
LINEAR = r"(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"


def lora_target(family: Family, where: str) -> str:
    language = rf".*{family.text_model}.*\.{LINEAR}"
    if where == "language":
        return language
    if family.projector is None:
        raise ModelLoadError("this model family's projector has no linear layer for LoRA; use --lora-targets language")
    return rf"({language})|(.*{family.projector})"


def family_of_processor(processor) -> Family:
    name = type(processor).__name__
    return next((f for f in FAMILIES.values() if f.processor_class == name), FAMILIES["llava"])

# Below this many parameters a model is "tiny" (the test worlds, a few million): its learning
# rates are 10-100x the 7B rates of PUBG Table 6, whatever its architecture.
TINY_PARAMETERS = 100_000_000


def inspect_model_dir(path: Path) -> str:
    """Check that `path` looks like a loadable LLaVA directory; return its model_type."""
    if not path.is_dir():
        raise ModelLoadError(f"model directory {path} does not exist; pass --model DIR of a local llava-hf model")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ModelLoadError(f"{path} has no config.json; it is not a transformers model directory")
    try:
        model_type = json.loads(config_file.read_text()).get("model_type")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{config_file} is not valid JSON ({exc})") from None
    if model_type not in FAMILIES:
        raise ModelLoadError(
            f"{path} holds a {model_type!r} model; forgetctl supports these vision-language families: "
            f"{', '.join(FAMILIES)} (`forgetctl models` shows how each is driven)"
        )
    if not any(path.glob("*.safetensors")) and not any(path.glob("pytorch_model*.bin")):
        raise ModelLoadError(f"{path} has no weights (*.safetensors or pytorch_model*.bin)")
    if not (path / "tokenizer.json").is_file() and not (path / "tokenizer.model").is_file():
        raise ModelLoadError(f"{path} has no tokenizer (tokenizer.json or tokenizer.model)")
    if not (path / "preprocessor_config.json").is_file() and not (path / "processor_config.json").is_file():
        raise ModelLoadError(
            f"{path} has no image processor (preprocessor_config.json); save the model's processor there too"
        )
    return model_type



def family(model_type: str, text_type: str, parameters: int) -> str:
    if parameters < TINY_PARAMETERS:
        return "tiny"
    if model_type == "llava_next":
        return {"mistral": "llava-1.6-mistral", "llama": "llava-1.6-vicuna"}.get(text_type, f"llava-1.6-{text_type}")
    if model_type == "llava":
        return f"llava-1.5-{text_type}"
    return model_type  # a method without a rate for it uses its default


def safetensors_parameters(path: Path) -> int | None:
    """The parameter count of a model folder, from its safetensors headers only (None for
    .bin weights, which cannot be read without torch)."""
    total = 0
    shards = sorted(path.glob("*.safetensors"))
    if not shards:
        return None
    for shard in shards:
        with shard.open("rb") as f:
            size = int.from_bytes(f.read(8), "little")
            if not 0 < size < 100 * 2**20:
                return None
            header = json.loads(f.read(size))
        for name, tensor in header.items():
            if name != "__metadata__":
                count = 1
                for dim in tensor["shape"]:
                    count *= dim
                total += count
    return total


def family_of_dir(path: Path) -> str | None:
    """The learning-rate family of a model folder, without loading it (None if it cannot be told)."""
    config = json.loads((path / "config.json").read_text())
    parameters = safetensors_parameters(path)
    if parameters is None:
        return None
    return family(config["model_type"], config.get("text_config", {}).get("model_type", ""), parameters)
