"""Load a local LLaVA-family model directory (llava-hf layout), offline and without remote code.

The same function loads the embedded demo model and `llava-hf/llava-v1.6-mistral-7b-hf` copied
to a user's disk: nothing here knows about the demo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from forgetctl.errors import ModelLoadError

# model_type in config.json -> transformers class name. LLaVA-1.6 (the paper's models) is llava_next.
SUPPORTED_MODEL_TYPES = {
    "llava": "LlavaForConditionalGeneration",
    "llava_next": "LlavaNextForConditionalGeneration",
}
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass
class LoadedModel:
    model: torch.nn.Module
    processor: object
    path: Path
    model_type: str
    dtype: torch.dtype
    device: torch.device


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def default_dtype(device: torch.device) -> torch.dtype:
    """bf16 where the hardware does it fast; fp32 on CPU, where bf16 matmuls are slow and lossy."""
    return torch.bfloat16 if device.type == "cuda" else torch.float32


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


def load_model(path: Path | str, dtype: str | torch.dtype | None = None, device: str | None = None) -> LoadedModel:
    import transformers

    path = Path(path).expanduser().resolve()
    model_type = inspect_model_dir(path)
    target = torch.device(device) if device else default_device()
    if isinstance(dtype, str):
        if dtype not in DTYPES:
            raise ModelLoadError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
        dtype = DTYPES[dtype]
    dtype = dtype or default_dtype(target)
    model_class = getattr(transformers, SUPPORTED_MODEL_TYPES[model_type])
    try:
        processor = transformers.AutoProcessor.from_pretrained(
            path, local_files_only=True, trust_remote_code=False
        )
        model = model_class.from_pretrained(
            path, dtype=dtype, local_files_only=True, trust_remote_code=False
        )
    except (OSError, ValueError, KeyError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"could not load {path}: {first_line}") from exc
    model.to(target).eval()
    # Batched generation needs left padding: the new tokens must follow the prompt directly.
    processor.tokenizer.padding_side = "left"
    return LoadedModel(model, processor, path, model_type, dtype, target)


# Below this many parameters a model is "tiny" (the test worlds, a few million): its learning
# rates are 10-100x the 7B rates of PUBG Table 6, whatever its architecture.
TINY_PARAMETERS = 100_000_000


def model_family(loaded: LoadedModel) -> str:
    """The key method plugins use to pick a learning rate (PUBG Table 6 names two families)."""
    parameters = sum(p.numel() for p in loaded.model.parameters())
    return family(loaded.model_type, loaded.model.config.text_config.model_type, parameters)


def family(model_type: str, text_type: str, parameters: int) -> str:
    if parameters < TINY_PARAMETERS:
        return "tiny"
    if model_type == "llava_next":
        return {"mistral": "llava-1.6-mistral", "llama": "llava-1.6-vicuna"}.get(text_type, f"llava-1.6-{text_type}")
    return f"llava-1.5-{text_type}"
