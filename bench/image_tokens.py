"""Image tokens per photo under LLaVA-1.6 (llava_next) anyres, for the grid choices that cut them.

    python bench/image_tokens.py          # prints a markdown table (used in docs/performance.md)

Counts are the <image> tokens transformers' own LlavaNextProcessor puts in the prompt of a photo
of each size, with LLaVA-1.6-Mistral-7B's image settings: 336-pixel CLIP tiles of 14-pixel
patches, one base tile plus an anyres grid whose padding is removed, one newline token per row.
"""

from __future__ import annotations

# LLaVA-1.6-Mistral-7B's image_grid_pinpoints (the paper's model; the default everywhere here).
PAPER_GRID = [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]
GRIDS = {
    "paper (5 pinpoints, up to 672x672 / 1008x336)": PAPER_GRID,
    "two tiles only ([336,672], [672,336])": [[336, 672], [672, 336]],
    "one tile ([336,336])": [[336, 336]],
}
PHOTO_SIZES = [(336, 336), (480, 640), (640, 480), (672, 672), (1024, 768), (3024, 4032)]


def processor(grid):
    from transformers import AutoTokenizer, LlavaNextImageProcessor, LlavaNextProcessor

    from forgetctl.demo import demo_model_dir

    image_processor = LlavaNextImageProcessor(
        image_grid_pinpoints=grid, size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336},
    )
    # Only the <image> token matters to the count; the demo tokenizer has it.
    return LlavaNextProcessor(
        image_processor=image_processor, tokenizer=AutoTokenizer.from_pretrained(demo_model_dir()),
        patch_size=14, vision_feature_select_strategy="default", image_token="<image>",
        num_additional_image_tokens=1,  # CLIP's CLS token, as in llava-hf's processor config
    )


def image_tokens(grid, width: int, height: int) -> int:
    from PIL import Image

    proc = processor(grid)
    ids = proc(images=Image.new("RGB", (width, height)), text="<image>", return_tensors="pt")["input_ids"]
    return int((ids == proc.tokenizer.convert_tokens_to_ids("<image>")).sum())


def main():
    names = list(GRIDS)
    print("| photo (w x h) | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    for width, height in PHOTO_SIZES:
        counts = [image_tokens(GRIDS[n], width, height) for n in names]
        print(f"| {width} x {height} | " + " | ".join(f"{c:,}" for c in counts) + " |")


if __name__ == "__main__":
    main()
