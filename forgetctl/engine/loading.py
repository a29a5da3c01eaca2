"""Load a local vision-language model directory (transformers layout), offline and without
remote code, with the class its family names (engine/families.py).

The same function loads the embedded demo model and `llava-hf/llava-v1.6-mistral-7b-hf` or
`Qwen/Qwen2-VL-7B-Instruct` copied to a user's disk: nothing here knows about the demo.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from forgetctl.engine.families import SUPPORTED_MODEL_TYPES, family, inspect_model_dir
from forgetctl.errors import ModelLoadError

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


def stored_dtype(path: Path) -> str | None:
    """The dtype a model directory's weights are written in (its config's `dtype`, formerly
    `torch_dtype`): a release is written in its parent's, not in the dtype it was merged in."""
    import json

    try:
        config = json.loads((Path(path) / "config.json").read_text())
    except (OSError, ValueError):
        return None
    found = config.get("dtype") or config.get("torch_dtype")
    return found if found in DTYPES else None


def model_family(loaded: LoadedModel) -> str:
    """The key method plugins use to pick a learning rate (PUBG Table 6 names two families)."""
    parameters = sum(p.numel() for p in loaded.model.parameters())
    return family(loaded.model_type, loaded.model.config.text_config.model_type, parameters)
