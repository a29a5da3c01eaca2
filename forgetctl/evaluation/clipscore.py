"""CLIPScore (Hessel et al. 2021): 2.5 * max(cos(image, text), 0), with open_clip.

Deployments pass an open_clip architecture name (or a model-config JSON) and a local checkpoint,
or name them in the model directory's forgetctl.toml: nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from forgetctl.errors import InputError

@dataclass
class Clip:
    model: torch.nn.Module
    preprocess: object
    tokenizer: object

    @torch.no_grad()
    def similarities(self, images, texts) -> list[float]:
        """Cosine similarity of each (image, text) pair."""
        image_batch = torch.stack([self.preprocess(img) for img in images])
        image_features = F.normalize(self.model.encode_image(image_batch).float(), dim=-1)
        text_features = F.normalize(self.model.encode_text(self.tokenizer(list(texts))).float(), dim=-1)
        return (image_features * text_features).sum(-1).tolist()

    def scores(self, images, texts) -> list[float]:
        return [2.5 * max(cos, 0.0) for cos in self.similarities(images, texts)]


def load_clip(arch: str | Path, pretrained: str | Path | None) -> Clip:
    """`arch` is an open_clip model name or a model-config JSON file; `pretrained` a local file."""
    import open_clip

    arch_path = Path(arch)
    if arch_path.suffix == ".json":
        open_clip.add_model_config(arch_path)
        arch = arch_path.stem
    if pretrained is not None and not Path(pretrained).is_file():
        raise InputError(f"CLIP checkpoint {pretrained} does not exist; pass a local file with --clip-pretrained")
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            str(arch), pretrained=str(pretrained) if pretrained else None
        )
    except RuntimeError as exc:
        raise InputError(f"cannot load CLIP {arch} from {pretrained}: {str(exc).splitlines()[0]}") from None
    return Clip(model.eval(), preprocess, open_clip.get_tokenizer(str(arch)))
