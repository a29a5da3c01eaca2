"""Materialise a pruned release again: its nearest kept ancestor, each adapter of the chain
merged in turn in the dtype the release was merged in, written like any release
(`erase.merge_adapter`), so the files match the signed record where the arithmetic is the same."""

from __future__ import annotations

from pathlib import Path

from forgetctl.engine.erase import merge_adapter
from forgetctl.engine.loading import load_model


def rebuild(start: Path, adapters: list[Path], dtype: str, out: Path, advance=None) -> str:
    """Write the merged chain to `out` (atomically); return the device it was merged on."""
    from peft import PeftModel

    loaded = load_model(start, dtype=dtype)
    for i, adapter in enumerate(adapters):
        loaded.model = PeftModel.from_pretrained(loaded.model, adapter)
        if i == len(adapters) - 1:
            merge_adapter(loaded, out)
        else:
            loaded.model = loaded.model.merge_and_unload()
        if advance:
            advance(1)
    return loaded.device.type
