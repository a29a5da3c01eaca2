"""FSDP2 on CPU: two processes over gloo run forgetctl's training loop on the demo model sharded
with `fully_shard` (what `accelerate launch --config_file configs/accelerate-fsdp2.yaml` asks for),
the same code a GPU runs. The loss falls, both ranks end with the same adapter, and that adapter,
saved whole and loaded into an unsharded model, gives the answers the sharded model gave in
lockstep. A control builds the optimizer before sharding, as the loop once did: nothing the model
computes with moves, silently, which is what this test exists to catch."""

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from forgetctl.demo import demo_model_dir
from forgetctl.demo.portraits import canonical_views
from forgetctl.demo.world import describe, load_world
from forgetctl.prompts import DESCRIBE_QUESTIONS, IDENTITY_QUESTIONS
from forgetctl.types import Example, TrainingConfig

pytestmark = pytest.mark.slow
WORLD = load_world()
TARGET, OTHER = WORLD.known[0], WORLD.known[7]
# Two micro-batches a step: FSDP2's gradient sync is switched off for the first.
CONFIG = TrainingConfig(steps=6, batch_size=4, grad_accum_steps=2, lora_rank=4, lora_alpha=8, watch_every=0)
QUESTIONS = list(IDENTITY_QUESTIONS[:2])


def examples():
    forget = [Example(v, q, TARGET.identity_answer(), f"t{i}:{j}:0")
              for i, v in enumerate(canonical_views(TARGET)[:2]) for j, q in enumerate(QUESTIONS)]
    retain = [Example(v, DESCRIBE_QUESTIONS[0], describe(OTHER.looks), f"r{i}:0:0")
              for i, v in enumerate(canonical_views(OTHER)[:2])]
    return forget, retain


def photos():
    """Five photos over two ranks: the second answers two and a padded copy, in lockstep."""
    from forgetctl.engine.images import Photo

    views = canonical_views(TARGET)[:3] + canonical_views(OTHER)[:2]
    return [Photo(Path(f"p{i}.png"), f"{i:064x}", image, b"") for i, image in enumerate(views)]


def optimizer_before_sharding(acc, model, learning_rate):
    """The bug the loop must not have: the optimizer holds the parameters sharding replaces."""
    from forgetctl.engine import sharding

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate)
    return sharding.shard(model, torch.device("cpu")), params, optimizer


def rank_main(rank: int, port: int, out: str, control: bool):
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", LOCAL_WORLD_SIZE="2",
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), ACCELERATE_USE_FSDP="true", FSDP_VERSION="2")
    torch.set_num_threads(1)
    from torch.distributed.tensor import DTensor

    from forgetctl.engine import distributed, sharding, training
    from forgetctl.engine.generation import ask
    from forgetctl.engine.loading import load_model
    from forgetctl.engine.unlearning import UnlearningContext
    from forgetctl.host.manager import create_host

    distributed.accelerator()  # joins the process group (gloo on CPU)
    if control:
        training.prepare = optimizer_before_sharding
    torch.manual_seed(0)
    loaded = load_model(demo_model_dir(), device="cpu")
    loaded.model = training.wrap_with_lora(loaded, CONFIG)
    forget, retain = examples()
    ctx = UnlearningContext(loaded, [e.answer for e in retain], seed=0)
    log = training.train_adapter(ctx, create_host().methods()["ga"].cls(), forget, retain, CONFIG, 2e-3)
    sharded = all(isinstance(p, DTensor) for p in loaded.model.parameters() if p.requires_grad)
    # What this process holds of the whole model's weights (about half: each shard splits dim 0).
    held = sum(p.to_local().numel() for p in loaded.model.parameters()) / sum(p.numel() for p in loaded.model.parameters())
    adapter = sharding.full_adapter(loaded.model)
    answers = ask(loaded, photos(), QUESTIONS)
    if distributed.is_main_process():  # as `erase` saves it: the whole tensors, by the main process
        loaded.model.save_pretrained(Path(out) / "adapter", state_dict=adapter)
    torch.save({"losses": [e["loss"] for e in log], "adapter": adapter, "sharded": sharded, "answers": answers, "held": held},
               Path(out) / f"rank{rank}.pt")


def run_two_ranks(tmp_path: Path, control: bool = False) -> list[dict]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(rank_main, args=(port, str(tmp_path), control), nprocs=2)
    return [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1)]


def test_fsdp2_trains_the_shards_and_both_ranks_end_with_one_adapter(tmp_path):
    from peft import PeftModel

    from forgetctl.engine.generation import ask
    from forgetctl.engine.loading import load_model

    ranks = run_two_ranks(tmp_path)
    assert all(r["sharded"] for r in ranks)
    assert all(0.45 < r["held"] < 0.55 for r in ranks), [r["held"] for r in ranks]
    losses = ranks[0]["losses"]
    assert losses == ranks[1]["losses"]  # the global batch's loss, reduced over the ranks
    assert losses[-1] < losses[0] - 0.05, losses
    first, second = ranks[0]["adapter"], ranks[1]["adapter"]
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    assert any("lora_B" in k and first[k].abs().sum() > 0 for k in first)
    assert ranks[0]["answers"] == ranks[1]["answers"]

    # The adapter the main process saved, in a plain model, answers as the sharded one did.
    plain = load_model(demo_model_dir(), device="cpu")
    plain.model = PeftModel.from_pretrained(plain.model, tmp_path / "adapter").eval()
    assert ask(plain, photos(), QUESTIONS) == ranks[0]["answers"]


def test_an_optimizer_built_before_sharding_would_not_train(tmp_path):
    ranks = run_two_ranks(tmp_path, control=True)
    losses = ranks[0]["losses"]
    assert not losses[-1] < losses[0] - 0.05, losses
    # The shards the model computes with never moved: LoRA's B is still its initial zero.
    assert all(v.abs().sum() == 0 for k, v in ranks[0]["adapter"].items() if "lora_B" in k)
