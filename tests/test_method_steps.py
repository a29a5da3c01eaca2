"""Fast tests of every built-in method on the demo model: one training step each (loss finite,
adapter changed, base untouched), the reference paths of NPO and PUBG, and the erase stages end
to end at a toy size."""

from dataclasses import replace

import pytest
import torch

from forgetctl.demo import demo_model_dir
from forgetctl.demo.bars import is_description
from forgetctl.demo.portraits import canonical_views
from forgetctl.demo.world import describe, load_world
from forgetctl.engine.loading import load_model
from forgetctl.engine.losses import sequence_nll
from forgetctl.engine.training import train_adapter, wrap_with_lora
from forgetctl.engine.unlearning import UnlearningContext
from forgetctl.host.manager import create_host
from forgetctl.prompts import DESCRIBE_QUESTIONS, IDENTITY_QUESTIONS
from forgetctl.types import Example, TrainingConfig

WORLD = load_world()
TARGET, OTHER = WORLD.known[0], WORLD.known[7]
TINY = TrainingConfig(steps=1, batch_size=2, lora_rank=4, lora_alpha=8)
METHODS = create_host().methods()
# Small settings so each step stays well under a second.
OPTIONS = {"pubg": {"samples_per_query": 1, "max_new_tokens": 16}, "npo": {}, "vgid": {}}


def forget_examples():
    views = canonical_views(TARGET)[:2]
    return [Example(v, q, TARGET.identity_answer(), f"t{i}:{j}:0") for i, v in enumerate(views)
            for j, q in enumerate(IDENTITY_QUESTIONS[:2])]


def retain_examples():
    return [Example(v, DESCRIBE_QUESTIONS[0], describe(OTHER.looks), f"r{i}:0:0")
            for i, v in enumerate(canonical_views(OTHER)[:2])]


def wrapped_model(scramble_adapter: bool = False):
    torch.manual_seed(0)
    loaded = load_model(demo_model_dir(), device="cpu")
    loaded.model = wrap_with_lora(loaded, TINY)
    if scramble_adapter:  # an adapter far from zero: the adapted model no longer behaves like the base
        with torch.no_grad():
            for name, p in loaded.model.named_parameters():
                if "lora_B" in name:
                    p.normal_(0, 0.5)
    return loaded


def split_parameters(model):
    adapter = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}
    base = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" not in n}
    return adapter, base


@pytest.mark.parametrize("name", sorted(METHODS))
def test_training_steps_move_every_adapter_tensor_and_nothing_else(name):
    """Two steps (at the first, LoRA's B is still zero, so A has no gradient yet): every trainable
    tensor has moved, every frozen one is untouched."""
    loaded = wrapped_model()
    ctx = UnlearningContext(loaded, [e.answer for e in retain_examples()], seed=0)
    cls = METHODS[name].cls
    method = cls(cls.parse_options(OPTIONS.get(name, {})))
    method.prepare(ctx, forget_examples())
    adapter_before, base_before = split_parameters(loaded.model)
    log = train_adapter(ctx, method, forget_examples(), retain_examples(), replace(TINY, steps=2, watch_every=0), 1e-3)
    assert len(log) == 2 and all(torch.isfinite(torch.tensor(v)) for entry in log for v in entry.values())
    adapter_after, base_after = split_parameters(loaded.model)
    unmoved = [n for n in adapter_before if torch.equal(adapter_before[n], adapter_after[n])]
    assert adapter_before and not unmoved, unmoved
    assert all(torch.equal(base_before[n], base_after[n]) for n in base_before)


def test_npo_reference_nll_is_the_base_models_not_the_adapters():
    loaded = wrapped_model(scramble_adapter=True)
    ctx = UnlearningContext(loaded, [], seed=0)
    cls = METHODS["npo"].cls
    method = cls(cls.Options())
    forget = forget_examples()
    method.prepare(ctx, forget)
    plain = load_model(demo_model_dir(), device="cpu")
    with torch.no_grad():
        base_nll = sequence_nll(plain.model, ctx.encode_examples(forget)).tolist()
        adapted_nll = sequence_nll(loaded.model, ctx.encode_examples(forget)).tolist()
    assert [method._reference_nll[e.key] for e in forget] == pytest.approx(base_nll, rel=1e-4)
    assert adapted_nll != pytest.approx(base_nll, rel=1e-2)


def test_pubg_guidance_comes_from_the_base_model_under_the_in_context_prompt():
    loaded = wrapped_model(scramble_adapter=True)
    ctx = UnlearningContext(loaded, [], seed=0)
    cls = METHODS["pubg"].cls
    method = cls(cls.parse_options({"samples_per_query": 2, "temperature": 0.3}))
    forget = forget_examples()
    was_training = loaded.model.training
    method.prepare(ctx, forget)
    assert loaded.model.training == was_training  # sampling put the model back as it was
    samples = [s for outs in method._guidance.values() for s in outs]
    assert len(method._guidance) == len(forget) and len(samples) == 2 * len(forget)
    # The frozen base describes what is visible; the scrambled adapter would not.
    assert sum(map(is_description, samples)) >= len(samples) - 1
    assert not any(TARGET.name.split()[0] in s for s in samples)


def test_sharpness_aware_steps_and_projector_lora_still_move_only_the_adapter():
    from forgetctl.engine.families import FAMILIES, lora_target

    config = TrainingConfig(steps=1, batch_size=2, lora_rank=4, lora_alpha=8, sam_rho=0.05, lora_targets="language+projector")
    torch.manual_seed(0)
    loaded = load_model(demo_model_dir(), device="cpu")
    loaded.model = wrap_with_lora(loaded, config)
    assert any("multi_modal_projector" in n and "lora_" in n for n, _ in loaded.model.named_parameters())
    assert "projector" not in lora_target(FAMILIES["llava"], "language")
    ctx = UnlearningContext(loaded, [e.answer for e in retain_examples()], seed=0)
    method = METHODS["ga"].cls()
    adapter_before, base_before = split_parameters(loaded.model)
    log = train_adapter(ctx, method, forget_examples(), retain_examples(), config, 1e-3)
    adapter_after, base_after = split_parameters(loaded.model)
    assert torch.isfinite(torch.tensor(log[0]["loss"]))
    assert any(not torch.equal(adapter_before[n], adapter_after[n]) for n in adapter_before)
    assert all(torch.equal(base_before[n], base_after[n]) for n in base_before)  # SAM moved back exactly


def test_sharpest_nearby_moves_along_the_gradient_and_back():
    from forgetctl.engine.training import sharpest_nearby

    p = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    p.grad = torch.tensor([3.0, 4.0])
    with sharpest_nearby([p], rho=0.5):
        assert torch.allclose(p.detach(), torch.tensor([1.3, 2.4])) and p.grad is None
    assert torch.allclose(p.detach(), torch.tensor([1.0, 2.0]))


def test_the_loop_keeps_the_adapter_of_the_best_watched_step():
    """Watched at steps 2 and 4; step 4 leaks, so the adapter as it was at step 2 is restored."""
    loaded = wrapped_model()
    ctx = UnlearningContext(loaded, [e.answer for e in retain_examples()], seed=0)
    method = METHODS["ga"].cls()
    heard = iter([{"leaks": 0, "degenerate": 0, "retain_drop": 0.0}, {"leaks": 1, "degenerate": 0, "retain_drop": 0.0}])
    seen = []

    def watch():
        seen.append(split_parameters(loaded.model)[0])
        return next(heard)

    log = train_adapter(ctx, method, forget_examples(), retain_examples(), replace(TINY, steps=4, watch_every=2), 1e-3,
                        watch=watch)
    assert [e["step"] for e in log if "watch" in e] == [1, 3] and log[1].get("kept") and not log[3].get("kept")
    now = split_parameters(loaded.model)[0]
    assert all(torch.equal(now[n], seen[0][n]) for n in now) and any(not torch.equal(now[n], seen[1][n]) for n in now)


def test_every_retain_batch_carries_half_a_batch_of_held_answers_in_turn():
    import random

    from forgetctl.engine.training import batches, with_held

    rng = random.Random(0)
    mixed = with_held(batches(["r1", "r2", "r3", "r4"], 4, rng), ["h1", "h2", "h3"], 2, rng)
    drawn = [next(mixed) for _ in range(3)]
    assert all(len(b) == 6 and sorted(b[:4]) == ["r1", "r2", "r3", "r4"] for b in drawn)
    # Six held draws over three held answers: each of them twice.
    assert sorted(x for b in drawn for x in b[4:]) == ["h1", "h1", "h2", "h2", "h3", "h3"]
