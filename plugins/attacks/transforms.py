"""Photos the erasure never saw: the evidence photos flipped, cropped, rescaled, in grey,
re-encoded as a poor JPEG, and with sensor noise."""

import io

import numpy as np
from PIL import Image, ImageOps

from forgetctl.attacks import Attack, PerPhoto
from forgetctl.host.hookspecs import hookimpl
from forgetctl.prompts import IDENTITY_QUESTIONS


def crop(img):
    w, h = img.size
    return img.crop((w // 10, h // 10, w - w // 10, h - h // 10)).resize((w, h))


def rescale(img):
    w, h = img.size
    return img.resize((max(1, w // 2), max(1, h // 2))).resize((w, h))


def jpeg(img):
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=30)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def noise(img):
    arr = np.asarray(img, dtype=np.float32) + np.random.default_rng(0).normal(0, 12, (img.size[1], img.size[0], 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


TRANSFORMS = {
    "flip": ImageOps.mirror, "crop": crop, "rescale": rescale,
    "grey": lambda img: ImageOps.grayscale(img).convert("RGB"), "jpeg": jpeg, "noise": noise,
}


class ImageTransforms(Attack):
    name = "transforms"
    label = "flipped, cropped, rescaled, grey, re-encoded and noisy photos"
    Options = PerPhoto

    def probes(self, target, split):
        questions = IDENTITY_QUESTIONS[: self.options.per_photo]
        return [(transform(photo.image), q) for photo in target.photos[split] for transform in TRANSFORMS.values() for q in questions]


@hookimpl
def register_attacks(register):
    register(ImageTransforms)
