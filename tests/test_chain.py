"""Releases kept as their chain: prune old merged copies, rebuild one bit for bit, refuse what the
chain cannot make. The chain here is made the way erase makes one (an adapter saved under
runs/RUN/adapter, merged with `merge_adapter`, recorded with `release_body`), with random
adapters instead of training."""

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forgetctl.cli import app
from forgetctl.demo import demo_model_dir
from forgetctl.fingerprint import directory_hashes
from forgetctl.lineage import RELEASE, Lineage, Start, release_body

runner = CliRunner()


def release(log, home: Path, parent_dir: Path, start: Start, run: str, request: str, signed_dtype="float32") -> Path:
    """One release on `parent_dir`, as the pipeline makes it: a random LoRA adapter, merged in
    float32 and written in the parent's dtype; recorded as merged in `signed_dtype`."""
    import torch
    from peft import LoraConfig, get_peft_model

    from forgetctl.engine.release import merge_adapter
    from forgetctl.engine.loading import load_model, stored_dtype

    torch.manual_seed(len(run))
    loaded = load_model(parent_dir, device="cpu")
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    loaded.model = get_peft_model(loaded.model, lora)
    adapter = home / "runs" / run / "adapter"
    loaded.model.save_pretrained(adapter)
    out = home / "releases" / run
    merge_adapter(loaded, out, stored_dtype(parent_dir))
    signed = {"files": directory_hashes(adapter), "dtype": signed_dtype, "device": "cpu", "stored": stored_dtype(out)}
    log.append(RELEASE, None, release_body(start, demo_model_dir(), out, run, [request], signed))
    return out


@pytest.fixture
def chain(log, forgetctl_home):
    """base -> v1 -> v2 -> v3, every release materialised."""
    from forgetctl.lineage import plan_start

    parent, folders = demo_model_dir(), []
    for i in (1, 2, 3):
        start = plan_start(Lineage.from_log(log), parent, fork=False)
        parent = release(log, forgetctl_home, parent, start, f"run{i}", f"req-{i:04d}")
        folders.append(parent)
    return folders


def versions(log):
    return Lineage.from_log(log).releases(next(iter(Lineage.from_log(log).roots)))


def test_prune_keeps_the_head_and_a_pruned_version_rebuilds_bit_for_bit(chain, log):
    from forgetctl.engine.loading import stored_dtype

    v1, v2, v3 = chain
    assert {stored_dtype(v) for v in chain} == {"float16"}  # the fp16 base's dtype, not the fp32 of the merge
    signed = {v.path: v.files for v in versions(log)}
    pruned = runner.invoke(app, ["lineage", "prune", "--keep", "1", "--yes"])
    assert pruned.exit_code == 0, pruned.output
    assert not v1.exists() and not v2.exists() and v3.is_dir()
    log.close()
    from forgetctl_audit.store import AuditLog

    reopened = AuditLog(log.home)
    assert reopened.records()[-1]["kind"] == "release-pruned" and reopened.verify().ok
    assert [v.pruned for v in versions(reopened)] == [True, True, False]
    listed = runner.invoke(app, ["lineage", "list"], env={"COLUMNS": "80"})
    assert listed.exit_code == 0 and listed.output.count("pruned") >= 2, listed.output
    # v2 needs v1 first: both adapters are merged again, from the original base.
    version = versions(reopened)[1].version
    rebuilt = runner.invoke(app, ["lineage", "rebuild", version])
    assert rebuilt.exit_code == 0, rebuilt.output
    said = " ".join(rebuilt.output.split())  # rich wraps at the terminal's width
    assert "and 2 adapter(s)" in said and "files match the signed release record" in said
    assert directory_hashes(v2) == signed[str(v2)]
    assert runner.invoke(app, ["lineage", "head"]).exit_code == 0
    again = runner.invoke(app, ["lineage", "rebuild", version])
    assert again.exit_code == 1 and "already exists" in str(again.exception)
    reopened.close()


def test_a_version_whose_adapter_changed_is_never_pruned_and_cannot_be_rebuilt(chain, log, forgetctl_home):
    v1, v2, v3 = chain
    weights = next((forgetctl_home / "runs" / "run1" / "adapter").glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:-1] + b"\0")
    pruned = runner.invoke(app, ["lineage", "prune", "--keep", "1", "--yes"])
    assert pruned.exit_code == 0 and v1.is_dir() and v2.is_dir(), pruned.output
    assert "adapter of release" in pruned.output and "not the one its record signs" in pruned.output
    shutil.rmtree(v1)
    refused = runner.invoke(app, ["lineage", "rebuild", versions(log)[0].version])
    assert refused.exit_code == 1 and "not the one its record signs" in str(refused.exception)
    assert not v1.exists()


def test_a_rebuild_that_differs_from_its_record_is_named_and_not_kept(log, forgetctl_home):
    """A record that says bf16 (a GPU merge) for weights merged in fp32: rebuilt in bf16 on this
    machine, the bits differ; the files are named and nothing takes the release's place."""
    from forgetctl.lineage import plan_start

    start = plan_start(Lineage.from_log(log), demo_model_dir(), fork=False)
    v1 = release(log, forgetctl_home, demo_model_dir(), start, "run1", "req-0001", signed_dtype="bfloat16")
    shutil.rmtree(v1)
    refused = runner.invoke(app, ["lineage", "rebuild", versions(log)[0].version], env={"COLUMNS": "200"})
    assert refused.exit_code == 3, refused.output
    assert "is not release" in refused.output and "model.safetensors differs" in refused.output
    assert "merged in bfloat16 on cpu" in refused.output
    assert not v1.exists() and not list(v1.parent.glob(f".{v1.name}*"))


def test_head_of_a_pruned_version_says_how_to_rebuild_it(chain, log):
    from forgetctl.errors import InputError
    from forgetctl.lineage import check_release_folder

    assert runner.invoke(app, ["lineage", "prune", "--keep", "2", "--yes"]).exit_code == 0
    first = versions(log)[0]
    assert first.pruned and not chain[0].exists() and chain[1].is_dir()
    with pytest.raises(InputError, match="lineage rebuild"):
        check_release_folder(first)
