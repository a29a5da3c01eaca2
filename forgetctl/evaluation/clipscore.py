"""CLIPScore (Hessel et al. 2021): 2.5 * max(cos(image, text), 0), with open_clip.

Deployments pass an open_clip architecture name (or a model-config JSON) and a local checkpoint,
or name them in the model directory's forgetctl.toml: nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from forgetctl.errors import InputError


@dataclass
class Clip:
    model: object  # an open_clip torch module
    preprocess: object
    tokenizer: object

    def similarities(self, images, texts) -> list[float]:
        """Cosine similarity of each (image, text) pair."""
        import torch
        import torch.nn.functional as F

        with torch.no_grad():
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


@dataclass
class ClipChoice:
    """The CLIP a run is graded with, named and its checkpoint found at validation; loaded (and
    so checked whole) by `load`, which a run calls before any record and a dry run never does."""

    arch: str | Path
    pretrained: str | Path | None = None
    _clip: Clip | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.pretrained is not None and not Path(self.pretrained).is_file():
            raise InputError(f"CLIP checkpoint {self.pretrained} does not exist; pass a local file with --clip-pretrained")

    def load(self) -> Clip:
        if self._clip is None:
            self._clip = load_clip(self.arch, self.pretrained)
        return self._clip

    def scores(self, images, texts) -> list[float]:
        return self.load().scores(images, texts)
