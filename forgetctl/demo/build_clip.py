"""Build the demo world's tiny open_clip model, so CLIPScore can be measured offline.

    python -m forgetctl.demo.build_clip --out forgetctl/demo/assets/clip

Pretrained CLIP weights cannot be downloaded here; this model is trained contrastively on
portraits and their visual descriptions (all 480 looks, fresh random renders) and must rank the
matching description first among 10 candidates for at least 90% of the unseen canonical views.
Real deployments pass `--clip-model ARCH --clip-pretrained PATH` to a local checkpoint instead.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from forgetctl.demo.portraits import canonical_views, render_portrait
from forgetctl.demo.world import ATTRIBUTE_VALUES, SEED, UNSEEN_VIEWS, describe, load_world
from forgetctl.evaluation.clipscore import load_clip

DEMO_CLIP_NAME = "forgetctl-demo-clip"  # the demo model's forgetctl.toml names these files

CONFIG = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 64, "layers": 3, "width": 128, "patch_size": 8, "head_width": 32},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
BAR = 0.90
CANDIDATES = 10


def all_looks() -> list[dict]:
    keys = list(ATTRIBUTE_VALUES)
    looks = [{}]
    for key in keys:
        looks = [{**l, key: v} for l in looks for v in ATTRIBUTE_VALUES[key]]
    return looks


def ranking_accuracy(clip, world, seed: int = 0) -> float:
    """Share of unseen views whose own description ranks first among 10 candidates."""
    rng = random.Random(seed)
    looks = all_looks()
    hits = total = 0
    for subject in world.known + world.strangers:
        views = canonical_views(subject)
        for v in UNSEEN_VIEWS:
            others = [l for l in rng.sample(looks, CANDIDATES + 1) if l != subject.looks][: CANDIDATES - 1]
            texts = [describe(subject.looks)] + [describe(l) for l in others]
            scores = clip.similarities([views[v]] * len(texts), texts)
            hits += int(max(range(len(texts)), key=lambda i: scores[i]) == 0)
            total += 1
    return hits / total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "assets" / "clip")
    parser.add_argument("--steps", type=int, default=700)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    rng = random.Random(SEED)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{DEMO_CLIP_NAME}.json").write_text(json.dumps(CONFIG, indent=2) + "\n")
    clip = load_clip(args.out / f"{DEMO_CLIP_NAME}.json", pretrained=None)
    model = clip.model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=args.steps, pct_start=0.05)
    looks = all_looks()
    started = time.time()
    for step in range(args.steps):
        batch = rng.sample(looks, args.batch_size)  # distinct looks: no false negatives in the batch
        images = torch.stack([clip.preprocess(render_portrait(l, rng.getrandbits(62) | 1 << 62)) for l in batch])
        texts = clip.tokenizer([describe(l) for l in batch])
        image_features = F.normalize(model.encode_image(images), dim=-1)
        text_features = F.normalize(model.encode_text(texts), dim=-1)
        logits = model.logit_scale.exp() * image_features @ text_features.T
        labels = torch.arange(len(batch))
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {loss.item():.4f}  {time.time() - started:6.1f}s", flush=True)
    train_seconds = time.time() - started

    from safetensors.torch import save_file

    save_file({k: v.half().contiguous() for k, v in model.state_dict().items()}, args.out / f"{DEMO_CLIP_NAME}.safetensors")
    shipped = load_clip(args.out / f"{DEMO_CLIP_NAME}.json", pretrained=args.out / f"{DEMO_CLIP_NAME}.safetensors")
    accuracy = ranking_accuracy(shipped, load_world())
    info = {"steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "train_seconds": round(train_seconds, 1),
            "unseen_top1_of_10": accuracy, "required": BAR}
    (args.out / "build_info.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))
    if accuracy < BAR:
        raise SystemExit(f"demo CLIP ranks the right description first for only {accuracy:.1%} of unseen views")


if __name__ == "__main__":
    main()
