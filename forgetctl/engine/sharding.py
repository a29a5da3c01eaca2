"""FSDP2: a model larger than one GPU, its weights sharded over the processes of `accelerate launch`.

Asked for by the launcher (an accelerate config with `distributed_type: FSDP` and
`fsdp_version: 2`, configs/accelerate-fsdp2.yaml), read from the environment it sets, like the
process count. forgetctl shards the model itself, the same way on CPU (gloo) as on GPU (NCCL), so
the CPU smoke test runs the code a GPU runs (accelerate with `use_cpu` quietly runs DDP instead).

What sharding changes, and why:
- the model is loaded on CPU, wrapped in its (still empty) LoRA and sharded onto the device
  before anything runs, so no device ever holds all of it (`erase.load_for_run`); each process
  holds the whole model in CPU memory only while it loads;
- the optimizer is built from the sharded parameters: `fully_shard` swaps every parameter for a
  DTensor shard, and an optimizer holding the old parameters steps tensors no forward uses (the
  loss stays flat, silently);
- every module with weights of its own becomes a unit (the layers the family names in
  `_no_split_modules`, then the embeddings, norms, projector and head): generation calls the
  vision tower and the embeddings outside the model's forward, where a root unit's hook never runs;
- generation runs in lockstep: every process answers as many prompts, and `generate` keeps
  stepping until all of them are done (`synced_gpus`);
- the adapter is gathered to full tensors by every process before the main one saves it, and a
  release is merged from the files (base plus saved adapter), not from the sharded model.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import TYPE_CHECKING

from forgetctl.engine.distributed import accelerator, process_count

if TYPE_CHECKING:
    import torch

CONFIG = "configs/accelerate-fsdp2.yaml"


def requested() -> bool:
    return os.environ.get("ACCELERATE_USE_FSDP", "false").lower() == "true" and process_count() > 1


def launch_problem() -> str | None:
    """Why this launch cannot train (checked with the request, before any model loads)."""
    if requested() and os.environ.get("FSDP_VERSION", "1") != "2":
        return f"forgetctl shards with FSDP2: set fsdp_version: 2 in the accelerate config (see {CONFIG})"
    return None


def is_sharded(model) -> bool:
    from torch.distributed.fsdp import FSDPModule

    return any(isinstance(m, FSDPModule) for m in model.modules())


def shard(model, device: torch.device):
    """Shard a LoRA-wrapped model in place onto `device` (from CPU, or from the device itself;
    see the module's note for the units); returns it."""
    import torch
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import FSDPModule, fully_shard

    mesh = init_device_mesh(device.type, (dist.get_world_size(),))
    root = model.get_base_model()  # generate() runs here, past the peft wrapper's forward
    layers = set(getattr(root, "_no_split_modules", None) or ())
    for module in root.modules():
        if type(module).__name__ in layers:
            fully_shard(module, mesh=mesh)
    units: list[str] = []
    for name, module in root.named_modules():
        if isinstance(module, FSDPModule):
            units.append(name)
        elif name and not any(name.startswith(u + ".") for u in units) and next(module.parameters(recurse=False), None) is not None:
            fully_shard(module, mesh=mesh)
            units.append(name)
    fully_shard(root, mesh=mesh)
    # One token through the root, on every process: FSDP then sets its units up as one tree.
    # Otherwise generation, which calls the vision tower before the root's forward, would make
    # that tower a tree of its own.
    with torch.no_grad():
        root(input_ids=torch.zeros((1, 1), dtype=torch.long, device=device))
    return model


@contextmanager
def gradient_sync(model, on: bool):
    """FSDP2's no_sync: gradients are reduce-scattered only on the last micro-batch of a step."""
    model.get_base_model().set_requires_gradient_sync(on)
    try:
        yield
    finally:
        model.get_base_model().set_requires_gradient_sync(True)


def full(tensor: torch.Tensor) -> torch.Tensor:
    """The whole tensor (a collective for a shard: every process must call it)."""
    from torch.distributed.tensor import DTensor

    return tensor.full_tensor() if isinstance(tensor, DTensor) else tensor


def full_adapter(model) -> dict[str, torch.Tensor] | None:
    """The adapter's weights as whole tensors, by parameter name (None: the model is not sharded).
    Every process must call it."""
    if not is_sharded(model):
        return None
    return {name: full(p.detach()).cpu() for name, p in model.named_parameters() if p.requires_grad}


def check_in_sync(tensors: list[torch.Tensor]) -> None:
    """Fail loudly if the processes' copies differ: DDP keeps them identical, and a run whose
    main process saved one of several diverged adapters must not be recorded as an erasure. A
    shard (FSDP2) is compared whole, as it will be saved."""
    acc = accelerator()
    if acc.num_processes == 1:
        return
    import hashlib

    import torch
    from accelerate.utils import gather_object

    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(full(tensor.detach()).cpu().contiguous().view(torch.uint8).numpy().tobytes())
    digests = gather_object([digest.hexdigest()])
    if len(set(digests)) != 1:
        raise RuntimeError(f"the {acc.num_processes} processes ended training with different adapters")
