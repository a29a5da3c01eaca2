"""Which model folders forgetctl can load, told from their files alone (no torch): the model
types it supports and how a model's size and layout choose its learning-rate family."""

from __future__ import annotations

import json
from pathlib import Path

from forgetctl.errors import ModelLoadError

# model_type in config.json -> transformers class name. LLaVA-1.6 (the paper's models) is llava_next.
SUPPORTED_MODEL_TYPES = {
    "llava": "LlavaForConditionalGeneration",
    "llava_next": "LlavaNextForConditionalGeneration",
}

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
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ModelLoadError(
            f"{path} holds a {model_type!r} model; forgetctl needs a LLaVA-family model "
            f"({', '.join(SUPPORTED_MODEL_TYPES)})"
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
    return f"llava-1.5-{text_type}"


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
