"""Batches that hold: every person in a batch gets a verdict of their own, and one person who
cannot be erased is held back while the others are erased and released."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from forgetctl.cli import app
from forgetctl.demo.world import load_world
from forgetctl.evaluation.results import Collateral, Evaluation
from forgetctl.policy import Policy, split_batch, verdict

runner = CliRunner()
POLICY = Policy("test", "", {"leak_rate_max": 0.0, "retain_rouge_drop_max": 0.05}, inconclusive_fails=False)


def evaluation(leaks: dict, retain_drop: float = 0.0) -> Evaluation:
    return Evaluation(forget={name: {"seen": {"leak_rate": rate}, "unseen": {"leak_rate": rate}} for name, rate in leaks.items()},
                      retain={"rouge_l_drop": retain_drop}, collateral=Collateral(retain_photos=1))


def test_a_batch_that_fails_on_one_persons_own_check_is_split():
    measured = evaluation({"Ann": 0.0, "Bo": 0.25, "Cy": 0.0})
    groups = split_batch(POLICY, measured, verdict(POLICY, measured), ["Ann", "Bo", "Cy"])
    assert [(names, d.passed) for names, d in groups] == [(["Ann", "Cy"], True), (["Bo"], False)]
    (failed,) = [c for c in groups[1][1].checks if not c.passed]
    assert failed.name == "leak_rate_max" and failed.measured == 0.25


def test_a_failure_everyone_shares_holds_back_the_whole_batch():
    measured = evaluation({"Ann": 0.0, "Bo": 0.0}, retain_drop=0.2)
    groups = split_batch(POLICY, measured, verdict(POLICY, measured), ["Ann", "Bo"])
    assert [(names, d.passed) for names, d in groups] == [(["Ann", "Bo"], False)]
    nobody = evaluation({"Ann": 0.5, "Bo": 0.5})
    assert [names for names, _ in split_batch(POLICY, nobody, verdict(POLICY, nobody), ["Ann", "Bo"])] == [["Ann", "Bo"]]


SPARING = '''
    from pydantic import Field

    from forgetctl.host.hookspecs import hookimpl
    from forgetctl_plugins.methods.pubg import BehaviourGuidance


    class Sparing(BehaviourGuidance):
        """PUBG that leaves the photos in `spare` alone: a person it cannot erase."""
        name = "sparing"

        class Options(BehaviourGuidance.Options):
            spare: list[str] = Field(default_factory=list)

        def loss(self, ctx, forget):
            kept = [e for e in forget if e.key.split(":")[0] not in self.options.spare]
            if not kept:
                return sum(p.sum() for p in ctx.model.parameters() if p.requires_grad) * 0.0
            return super().loss(ctx, kept)


    @hookimpl
    def register_methods(register):
        register(Sparing)
'''


@pytest.mark.slow
def test_one_person_who_cannot_be_erased_is_held_back_and_the_others_released(install_plugin, tmp_path, forgetctl_home):
    import json

    from forgetctl.demo.portraits import write_views
    from forgetctl.engine.images import read_photos
    from forgetctl_audit.store import AuditLog

    install_plugin("sparing", "forgetctl_sparing", "1.0", SPARING)
    world = load_world()
    erased, stubborn = world.known[0], world.known[19]
    # Three photos each (two trained on, one held out) and one retain person: every stage runs, on
    # a fraction of the generation.
    for person, folder in [(erased, tmp_path / erased.id), (stubborn, tmp_path / stubborn.id),
                           *[(other, tmp_path / "retain" / other.id) for other in world.unlike(erased, 1)]]:
        for extra in sorted(write_views(person, folder))[3:]:
            Path(extra).unlink()
    spare = [p.sha256[:16] for p in read_photos(tmp_path / stubborn.id)]
    result = runner.invoke(app, [
        "erase", "--entity", erased.name, "--images", str(tmp_path / erased.id), "--entity", stubborn.name,
        "--images", str(tmp_path / stubborn.id), "--retain", str(tmp_path / "retain"), "--method", "sparing",
        "--method-option", f"spare={json.dumps(spare)}", "--steps", "10",
    ], env={"COLUMNS": "200"})
    assert result.exit_code == 5, result.output[-3000:]
    assert f"Held back from this release: {stubborn.name}" in result.output and "leak_rate_max" in result.output
    log = AuditLog(forgetctl_home, readonly=True)
    records = log.records()
    log.close()
    outcomes = {r["kind"]: r for r in records if r["kind"] in ("erasure", "run-failed-policy")}
    (release,) = [r["body"] for r in records if r["kind"] == "release"]
    erasure, held = outcomes["erasure"], outcomes["run-failed-policy"]
    assert release["added"] == [erasure["request_id"]] and held["request_id"] not in release["erased"]
    assert erasure["body"]["batch"] == held["body"]["batch"] == {"erased": [erasure["request_id"]], "held_back": [held["request_id"]]}
    assert held["body"]["merged_model"] is None and erasure["body"]["merged_model"] == release["path"]
    assert list(erasure["body"]["metrics"]) == [erasure["request_id"]] and list(held["body"]["metrics"]) == [held["request_id"]]
    listed = runner.invoke(app, ["audit", "list"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "erased" in listed.output and "failed policy" in listed.output, listed.output
