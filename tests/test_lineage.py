"""Requests keep coming: a lineage of releases in which every erasure stays erased."""

import pytest
from typer.testing import CliRunner

from forgetctl.cli import app
from forgetctl.demo import demo_model_dir
from forgetctl.demo.truth import revealed
from forgetctl.demo.world import load_world
from forgetctl.errors import InputError
from forgetctl.lineage import Lineage, Version, model_digest, plan_start

runner = CliRunner()
WORLD = load_world()
A, B, C = WORLD.known[0], WORLD.known[2], WORLD.known[4]
RETAIN = [WORLD.known[9], WORLD.known[19], WORLD.known[29]]


def synthetic(*versions: Version, roots=None) -> Lineage:
    return Lineage({v.version: v for v in versions}, roots or {v.root: f"/models/{v.root}" for v in versions})


def test_the_head_carries_every_erasure_and_forks_do_not_steal_it():
    v1 = Version("v1", "base", "base", "/r/v1", ("A",), ("A",), seq=1)
    v2 = Version("v2", "v1", "base", "/r/v2", ("A", "B"), ("B",), seq=2)
    assert synthetic(v1, v2).head("base") == v2
    fork = Version("f1", "v1", "base", "/r/f1", ("A", "C"), ("C",), fork=True, seq=3)
    lineage = synthetic(v1, v2, fork)
    assert lineage.head("base") is None  # neither v2 nor the fork carries A, B and C
    assert lineage.missing_from(v2) == {"C"} and lineage.missing_from(fork) == {"B"}
    v3 = Version("v3", "v2", "base", "/r/v3", ("A", "B", "C"), ("C",), seq=4)
    assert synthetic(v1, v2, fork, v3).head("base") == v3


def test_starting_from_an_ancestor_that_lacks_a_later_erasure_is_refused(tmp_path):
    base = model_digest(demo_model_dir())
    v1 = Version("v1", base, base, str(tmp_path / "v1"), ("req-a",), ("req-a",), seq=1)
    lineage = synthetic(v1, roots={base: str(demo_model_dir())})
    with pytest.raises(InputError, match="lacks the erasure of req-a.*start from the head v1.*--fork"):
        plan_start(lineage, demo_model_dir(), fork=False)
    forked = plan_start(lineage, demo_model_dir(), fork=True)
    assert forked.fork and forked.version.is_root and forked.earlier == ()
    unknown = plan_start(synthetic(), demo_model_dir(), fork=False)
    assert unknown.version is None and unknown.digest == base


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A then B, each a release from the last; photos and a retain folder of three other people."""
    root = tmp_path_factory.mktemp("lineage")
    home = root / "home"
    from forgetctl.demo.portraits import write_views

    for person in (A, B, C):
        write_views(person, root / person.id)
    for person in RETAIN:
        write_views(person, root / "retain" / person.id)
    def erase(person, *options):
        return runner.invoke(app, ["erase", "--entity", person.name, "--images", str(root / person.id),
                                   "--retain", str(root / "retain"), *map(str, options)], env={"FORGETCTL_HOME": str(home)})

    first = erase(A)
    assert first.exit_code == 0, first.output[-2000:]
    v1 = next((home / "releases").iterdir())
    second = erase(B, "--model", v1)
    assert second.exit_code == 0, second.output[-2000:]
    v2 = next(p for p in (home / "releases").iterdir() if p != v1)
    return {"root": root, "home": home, "v1": v1, "v2": v2, "erase": erase, "second": second.output}


def records_of(home):
    from forgetctl_audit.store import AuditLog

    log = AuditLog(home, readonly=True)
    try:
        return log.records()
    finally:
        log.close()


@pytest.mark.slow
@pytest.mark.verdict
def test_erasing_b_from_the_head_keeps_a_forgotten(history):
    assert "Erased before" in history["second"] and "0% leaks" in history["second"]
    records = records_of(history["home"])
    erasure_b = [r for r in records if r["kind"] == "erasure"][-1]
    (earlier,) = erasure_b["body"]["earlier"].values()
    assert earlier["seen"]["leak_rate"] == 0 and earlier["unseen"]["leak_rate"] == 0
    checks = {c["name"]: c for c in erasure_b["body"]["verdict"]["checks"]}
    assert checks["previously_erased_leak_rate_max"]["passed"] and checks["previously_erased_leak_rate_max"]["measured"] == 0
    # An independent re-probe of the release with plain transformers: A is still gone, B too.
    from forgetctl.demo.portraits import canonical_views
    from forgetctl.engine.generation import generate_answers
    from forgetctl.engine.loading import load_model
    from forgetctl.prompts import IDENTITY_QUESTIONS

    v2 = load_model(history["v2"], device="cpu")
    for person in (A, B):
        views = canonical_views(person)
        answers = generate_answers(v2, [v for v in views for _ in IDENTITY_QUESTIONS], list(IDENTITY_QUESTIONS) * len(views))
        assert not [a for a in answers if revealed(person, a)], person.name
    releases = [r["body"] for r in records if r["kind"] == "release"]
    assert releases[1]["parent"] == releases[0]["version"] and len(releases[1]["erased"]) == 2


@pytest.mark.slow
def test_erasing_from_the_base_after_a_is_refused_without_fork(history):
    refused = history["erase"](C, "--model", demo_model_dir(), "--dry-run")
    assert refused.exit_code == 1 and "lacks the erasure" in str(refused.exception)
    forked = history["erase"](C, "--model", demo_model_dir(), "--dry-run", "--fork")
    assert forked.exit_code == 0, forked.output


@pytest.mark.slow
def test_verify_on_a_version_reprobes_exactly_its_lineage_and_names_what_it_cannot(history, monkeypatch):
    monkeypatch.setenv("FORGETCTL_HOME", str(history["home"]))
    on_v1 = runner.invoke(app, ["verify", "--model", str(history["v1"])])
    assert on_v1.exit_code == 0, on_v1.output
    assert on_v1.output.count("│ req-") == 2, on_v1.output  # A's two rows (seen, unseen), nobody else
    base = runner.invoke(app, ["verify", "--model", str(demo_model_dir())])
    assert base.exit_code == 1 and "original base" in str(base.exception)
    # Shred A: verifying v2 now re-probes B only and says A cannot be verified.
    records = records_of(history["home"])
    first_erasure = next(r for r in records if r["kind"] == "erasure")
    request_a = first_erasure["request_id"]
    assert runner.invoke(app, ["audit", "shred", request_a, "--yes"]).exit_code == 0
    on_v2 = runner.invoke(app, ["verify", "--model", str(history["v2"])])
    assert on_v2.exit_code == 0, on_v2.output
    said = " ".join(on_v2.output.split())  # rich wraps at the terminal's width
    assert f"{request_a} cannot be re-probed" in said and "(not counted as verified)" in said
    records = records_of(history["home"])
    verifications = [r for r in records if r["kind"] == "verification"]
    assert verifications[-1]["body"]["tested"]["version"] and verifications[-1]["request_id"] != request_a
    lineage = runner.invoke(app, ["lineage", "head"])
    assert str(history["v2"]) in lineage.output


def test_a_report_names_a_model_by_the_version_lineage_prints():
    from forgetctl.fingerprint import directory_hashes
    from forgetctl.report import digest

    assert digest(directory_hashes(demo_model_dir())) == model_digest(demo_model_dir())
