"""Several processes (one per GPU) under `accelerate launch`; one process otherwise.

accelerate owns the processes, the device of each and the DDP wrapping. forgetctl only decides
what each process does: generation is sharded (each process answers a contiguous slice, then all
gather the answers in order), training is data-parallel (each process takes its slice of every
global batch, so the recipe's batch 8 means 8 examples per step however many processes run), and
only the main process evaluates, judges and writes runs/ and the audit log.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import torch

T = TypeVar("T")
R = TypeVar("R")


@lru_cache(maxsize=1)
def accelerator():
    """The process's Accelerator. Device placement and mixed precision stay with forgetctl: the
    model is loaded on `accelerator().device`, and the loop autocasts to bf16 on CUDA itself."""
    from accelerate import Accelerator

    return Accelerator(device_placement=False, mixed_precision="no")


def device() -> torch.device:
    import torch

    chosen = accelerator().device
    return torch.device("cpu") if chosen.type == "cpu" else chosen


# The launcher (accelerate launch, torchrun) tells each process its rank and the world size in
# the environment; reading them there lets a request be validated without loading torch.
def process_count() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0"


def shard_map(fn: Callable[[list[T]], list[R]], items: Sequence[T], lockstep: bool = False) -> list[R]:
    """fn over the items, each process taking a contiguous slice; every process gets all results
    in the items' order. `fn` must return one result per item. `lockstep`: every process must
    call `fn` on as many items (a sharded model's forward is a collective)."""
    acc = accelerator()
    if acc.num_processes == 1:
        return fn(list(items))
    from accelerate.utils import gather_object

    per = -(-len(items) // acc.num_processes)
    mine = list(items[acc.process_index * per : (acc.process_index + 1) * per])
    # In lockstep the short slices are padded with a copy of an item, whose results are dropped.
    padding = per - len(mine) if lockstep and items else 0
    results = fn(mine + [items[-1]] * padding) if mine or padding else []
    results = results[: len(results) - padding]
    if len(results) != len(mine):
        raise RuntimeError(f"shard_map: {len(results)} results for {len(mine)} items")
    # gather_object concatenates the processes' lists in rank order: the items' order.
    return gather_object(results)


def shared_progress(advance: Callable[[int], None] | None) -> Callable[[int], None] | None:
    """Progress for sharded work: the main process reports its share as if the others kept pace."""
    processes = process_count()
    if advance is None or processes == 1:
        return advance
    return lambda n: advance(n * processes)


def local_slice(batch: list[T]) -> list[T]:
    """This process's share of a global training batch."""
    acc = accelerator()
    return batch[acc.process_index :: acc.num_processes]
