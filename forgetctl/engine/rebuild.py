"""Materialise a pruned release again: its nearest kept ancestor, each adapter of the chain
merged in turn in the dtype the release was merged in, written like any release
(`erase.merge_adapter`), so the files match the signed record where the arithmetic is the same."""

from __future__ import annotations

from pathlib import Path

from forgetctl.engine.erase import merge_adapter
from forgetctl.engine.loading import DTYPES, load_model


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
