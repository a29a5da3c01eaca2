"""GPU benchmark on a randomly initialised LLaVA-1.6-Mistral-7B or Qwen2.5-VL-7B (their exact
configs, written in code).

    python bench/gpu_llava_next.py --out gpu.json                         # on a CUDA machine
    python bench/gpu_llava_next.py --shape qwen2.5-vl-7b --out qwen.json
    python bench/gpu_llava_next.py --tiny [--shape ...]                   # a scaled-down smoke run (CPU is fine)

No weights are needed to measure speed. The photo is 672x672 in both: 2,928 image tokens under
LLaVA-1.6 anyres, 576 under Qwen2.5-VL (14-pixel patches merged 2x2). Positions do not change the
arithmetic, so the language model runs on plain 1-D positions. Measures:
- training: the paper's recipe (LoRA r=128, alpha=256 on the language model's linear layers,
  batch 8) with and without gradient checkpointing; step time, peak memory and
  MFU = tokens * (4N + 6N_lora + attention) / (step time * peak bf16 FLOP/s), where N counts
  language-model parameters without embeddings, the frozen base costs 4N (forward + input
  gradients), LoRA 6N_lora, and attention 12 * layers * seq * d_model per token (fwd + bwd);
- generation: batch 32, 64 new tokens, left padding, against the memory-bandwidth bound
  (weights + KV cache read once per decoding step).
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from image_tokens import PAPER_GRID, image_tokens

PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12}
HBM_BYTES_PER_S = {"H100": 3.35e12, "H200": 4.8e12, "A100": 2.0e12}


def mistral_7b_llava_next_config(tiny: bool):
    from transformers import CLIPVisionConfig, LlavaNextConfig, MistralConfig

    vision = CLIPVisionConfig(
        hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16,
        image_size=336, patch_size=14, projection_dim=768, hidden_act="quick_gelu",
    )
    text = MistralConfig(
        vocab_size=32064, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=32768, rope_theta=1e6,
        sliding_window=None,
    )
    if tiny:
        vision.update(dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2))
        text.update(dict(hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2))
    return LlavaNextConfig(
        vision_config=vision, text_config=text, image_token_index=32000,
        image_grid_pinpoints=PAPER_GRID,
        vision_feature_layer=-2, vision_feature_select_strategy="default", tie_word_embeddings=False,
    )


def qwen2_5_vl_7b_config(tiny: bool):
    from transformers import Qwen2_5_VLConfig

    text = dict(vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                num_attention_heads=28, num_key_value_heads=4, max_position_embeddings=128000, rope_theta=1e6,
                rope_scaling={"type": "mrope", "mrope_section": [16, 24, 24]})
    vision = dict(depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16, out_hidden_size=3584, patch_size=14,
                  spatial_merge_size=2, temporal_patch_size=2, window_size=112, fullatt_block_indexes=[7, 15, 23, 31])
    if tiny:
        text.update(vocab_size=1024, hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, rope_scaling={"type": "mrope", "mrope_section": [4, 6, 6]})
        vision.update(depth=2, hidden_size=64, intermediate_size=128, num_heads=2, out_hidden_size=128, fullatt_block_indexes=[1])
    return Qwen2_5_VLConfig(text_config=text, vision_config=vision, tie_word_embeddings=False)


def qwen_image_tokens(width: int, height: int, patch: int = 14, merge: int = 2) -> int:
    """Image tokens of a photo already sized to a multiple of 28 pixels (as 672x672 is)."""
    return (width // patch) * (height // patch) // (merge * merge)


# name -> (config, model class, image tokens of a 672x672 photo)
SHAPES = {
    "llava-next-mistral-7b": (mistral_7b_llava_next_config, "LlavaNextForConditionalGeneration",
                              lambda: image_tokens(PAPER_GRID, 672, 672)),
    "qwen2.5-vl-7b": (qwen2_5_vl_7b_config, "Qwen2_5_VLForConditionalGeneration", lambda: qwen_image_tokens(672, 672)),
}


def device_key() -> str:
    name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    return next((k for k in PEAK_BF16_FLOPS if k in name), "cpu")


def training_benchmark(model, config, seq_image_tokens: int, answer_tokens: int, batch: int, checkpointing: bool, steps: int):
    from peft import LoraConfig, get_peft_model

    device = next(model.parameters()).device
    lora = get_peft_model(model, LoraConfig(
        r=128, lora_alpha=256, target_modules=r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"))
    if checkpointing:
        lora.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        lora.enable_input_require_grads()
    text = config.text_config
    seq = seq_image_tokens + answer_tokens
    # Language-model-only forward on precomputed "image" embeddings: the vision tower is frozen
    # and outside LoRA, so its cost is one forward per sample, reported separately.
    embeds = torch.randn(batch, seq, text.hidden_size, device=device, dtype=torch.bfloat16)
    labels = torch.randint(0, text.vocab_size, (batch, seq), device=device)
    labels[:, :seq_image_tokens] = -100
    optimizer = torch.optim.AdamW([p for p in lora.parameters() if p.requires_grad], lr=2e-5)
    lm = lora.base_model.model
    times = []
    torch.cuda.reset_peak_memory_stats() if device.type == "cuda" else None
    for step in range(steps + 2):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        out = lm(inputs_embeds=embeds, labels=labels)
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step >= 2:  # warm-up excluded
            times.append(time.perf_counter() - t)
    n_lm = sum(p.numel() for n, p in lm.named_parameters() if "language_model" in n and "lora_" not in n and "embed" not in n)
    n_lora = sum(p.numel() for n, p in lm.named_parameters() if "lora_" in n)
    flops_per_token = 4 * n_lm + 6 * n_lora + 12 * text.num_hidden_layers * seq * text.hidden_size
    step_s = sorted(times)[len(times) // 2]
    tokens = batch * seq
    peak = PEAK_BF16_FLOPS.get(device_key())
    if checkpointing:
        lm.gradient_checkpointing_disable()
    lora.unload()  # back to the plain base model for the next measurement
    return {
        "gradient_checkpointing": checkpointing, "batch": batch, "seq": seq, "step_s": round(step_s, 4),
        "tokens_per_s": round(tokens / step_s, 1), "n_lm_params": n_lm, "n_lora_params": n_lora,
        "mfu": round(tokens * flops_per_token / (step_s * peak), 4) if peak else None,
        "peak_memory_gb": round(torch.cuda.max_memory_allocated() / 1e9, 2) if device.type == "cuda" else None,
    }


def generation_benchmark(model, config, prompt_tokens: int, batch: int, new_tokens: int):
    model.eval()
    device = next(model.parameters()).device
    text = config.text_config
    lm = model.model.language_model if hasattr(model.model, "language_model") else model.language_model
    head = model.lm_head
    lengths = torch.randint(prompt_tokens // 2, prompt_tokens + 1, (batch,))
    mask = torch.zeros(batch, prompt_tokens, dtype=torch.long, device=device)
    for i, n in enumerate(lengths):
        mask[i, prompt_tokens - n:] = 1  # left padding
    embeds = torch.randn(batch, prompt_tokens, text.hidden_size, device=device, dtype=torch.bfloat16)
    with torch.no_grad():
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        out = lm(inputs_embeds=embeds, attention_mask=mask, use_cache=True)
        past, token = out.past_key_values, head(out.last_hidden_state[:, -1:]).argmax(-1)
        if device.type == "cuda":
            torch.cuda.synchronize()
        prefill_s = time.perf_counter() - t
        t = time.perf_counter()
        for _ in range(new_tokens - 1):
            mask = torch.cat([mask, torch.ones(batch, 1, dtype=mask.dtype, device=device)], dim=1)
            out = lm(input_ids=token, attention_mask=mask, past_key_values=past, use_cache=True)
            past, token = out.past_key_values, head(out.last_hidden_state).argmax(-1)
        if device.type == "cuda":
            torch.cuda.synchronize()
        decode_s = time.perf_counter() - t
    # What each decoding step reads: the language model and the head (the vision tower is idle).
    weights = sum(p.numel() * p.element_size() for p in [*lm.parameters(), *head.parameters()])
    head_dim = text.hidden_size // text.num_attention_heads
    kv_per_token = 2 * text.num_hidden_layers * text.num_key_value_heads * head_dim * 2  # K and V, bf16
    mean_context = prompt_tokens + new_tokens / 2
    bytes_per_step = weights + batch * mean_context * kv_per_token
    bandwidth = HBM_BYTES_PER_S.get(device_key())
    tokens_per_s = batch * (new_tokens - 1) / decode_s
    bound = batch / (bytes_per_step / bandwidth) if bandwidth else None
    return {
        "batch": batch, "prompt_tokens": prompt_tokens, "new_tokens": new_tokens, "prefill_s": round(prefill_s, 3),
        "decode_tokens_per_s": round(tokens_per_s, 1), "bandwidth_bound_tokens_per_s": round(bound, 1) if bound else None,
        "fraction_of_bound": round(tokens_per_s / bound, 3) if bound else None,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="A scaled-down config: checks the code, measures nothing real.")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="llava-next-mistral-7b")
    parser.add_argument("--out")
    args = parser.parse_args()
    import transformers

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type != "cuda" and not args.tiny:
        raise SystemExit("no CUDA device: run with --tiny for a smoke test, or on a GPU machine")
    make_config, model_class, photo_tokens = SHAPES[args.shape]
    config = make_config(args.tiny)
    torch.manual_seed(0)
    with torch.device(device):
        model = getattr(transformers, model_class)(config).to(torch.bfloat16)
    # A 672x672 photo (for LLaVA-1.6 anyres, the most image tokens one photo gets).
    seq_image_tokens = 64 if args.tiny else photo_tokens()
    report = {"device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu", "shape": args.shape,
              "tiny": args.tiny, "image_tokens": seq_image_tokens, "training": []}
    for checkpointing in (False, True):
        report["training"].append(training_benchmark(model, config, seq_image_tokens, 64, 8, checkpointing, args.steps))
        if device.type == "cuda":
            torch.cuda.empty_cache()
    report["generation"] = generation_benchmark(model, config, seq_image_tokens + 32, 32 if not args.tiny else 4, 64 if not args.tiny else 8)
    print(json.dumps(report, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
