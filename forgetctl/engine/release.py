"""Writing a release: the run's adapter merged into its start, or a pruned release merged again
from its chain (`forgetctl lineage rebuild`), both written the one way (`merge_adapter`), so a
rebuilt release's files match the signed record where the arithmetic is the same. Folders
appear whole or not at all (`atomic_directory`)."""

from __future__ import annotations

import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

from forgetctl.engine import sharding
from forgetctl.engine.loading import DTYPES, LoadedModel, load_model
from forgetctl.errors import InputError
from forgetctl.types import EraseResult


@contextmanager
def atomic_directory(final: Path):
    """Yield a temporary sibling directory that becomes `final` only if the block succeeds."""
    if final.exists():
        raise InputError(f"{final} already exists; choose another output directory")
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.parent / f".{final.name}.partial-{uuid.uuid4().hex[:6]}"
    try:
        yield partial
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def write_release(result: EraseResult, start: Path, out: Path, stored: str | None) -> str:
    """The release: `start` plus the run's adapter, in the parent's dtype; returns the device it
    was merged on. A sharded model's weights are spread over processes that have finished, so it
    is merged from the files, on CPU, as `forgetctl lineage rebuild` would."""
    if not sharding.is_sharded(result.loaded.model):
        merge_adapter(result.loaded, out, stored)
        return result.loaded.device.type
    return rebuild(start, [(result.run_dir / "adapter", stored)], str(result.loaded.dtype).removeprefix("torch."), out,
                   device="cpu")


def merge_adapter(loaded: LoadedModel, out: Path, stored: str | None = None) -> None:
    """Write base + adapter as one plain transformers model directory (with its processor), its
    weights in `stored` (the parent's dtype: an fp16 base gives fp16 releases, not the fp32 a CPU
    merges in). The model stays in memory as written: rounded to `stored`, in the compute dtype."""
    with atomic_directory(out) as partial:
        merged = loaded.model.merge_and_unload()
        if stored:
            merged.to(DTYPES[stored])
        merged.save_pretrained(partial)
        merged.to(loaded.dtype)
        loaded.processor.save_pretrained(partial)
        loaded.model = merged


def rebuild(start: Path, steps: list[tuple[Path, str | None]], dtype: str, out: Path, advance=None,
            device: str | None = None) -> str:
    """Write the merged chain to `out` (atomically); return the device it was merged on. `steps`:
    each adapter with the dtype its release was written in (None: the merge dtype, as releases
    were before they kept their parent's)."""
    from peft import PeftModel

    loaded = load_model(start, dtype=dtype, device=device)
    for i, (adapter, stored) in enumerate(steps):
        loaded.model = PeftModel.from_pretrained(loaded.model, adapter)
        if i == len(steps) - 1:
            merge_adapter(loaded, out, stored)
        else:
            # As if written in `stored` and loaded again: the rounding the real chain went through.
            loaded.model = loaded.model.merge_and_unload()
            if stored:
                loaded.model.to(DTYPES[stored]).to(loaded.dtype)
        if advance:
            advance(1)
    return loaded.device.type
