"""Requests keep coming: a lineage of releases in which every erasure stays erased."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from forgetctl.cli import app
from forgetctl.demo import demo_model_dir
from forgetctl.demo.truth import revealed
from forgetctl.demo.world import load_world
from forgetctl.errors import InputError
from forgetctl.fingerprint import model_digest
from forgetctl.lineage import Lineage, Version, plan_start

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


def copy_model(tmp_path, name="model"):
    import shutil

    return Path(shutil.copytree(demo_model_dir(), tmp_path / name))


def flip_byte(path: Path, at: int = -1) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 1
    path.write_bytes(bytes(data))


def test_a_release_folder_is_rehashed_against_its_record_and_the_changed_file_named(tmp_path):
    from forgetctl.fingerprint import directory_hashes
    from forgetctl.lineage import check_release_folder

    release = copy_model(tmp_path)
    version = Version("v1", "base", "base", str(release), ("A",), ("A",), seq=1, files=directory_hashes(release))
    check_release_folder(version)  # untouched: passes
    flip_byte(release / "model.safetensors")
    with pytest.raises(InputError, match="no longer release v1: model.safetensors differs"):
        check_release_folder(version)


def test_a_model_no_version_matches_is_refused_once_a_lineage_exists_unless_a_new_lineage_is_asked_for(tmp_path):
    from forgetctl.fingerprint import directory_hashes

    base = model_digest(demo_model_dir())
    release = copy_model(tmp_path, "v1")
    flip_byte(release / "model.safetensors", at=-2)  # a release differs from its base in its weights
    v1 = Version("v1", base, base, str(release), ("req-a",), ("req-a",), seq=1, files=directory_hashes(release))
    lineage = Lineage({"v1": v1}, {base: str(demo_model_dir())}, {base: directory_hashes(demo_model_dir())})
    touched = copy_model(tmp_path, "touched")
    (touched / "README.txt").write_text("hello")
    with pytest.raises(InputError, match="not a version of this lineage: against the original base .*README.txt was added"):
        plan_start(lineage, touched, fork=False)
    flip_byte(release / "model.safetensors")  # the release itself, one byte changed
    with pytest.raises(InputError, match=r"against the (release|original base) \w+ .*model.safetensors differs.*--new-lineage"):
        plan_start(lineage, release, fork=False)
    started = plan_start(lineage, touched, fork=False, new_lineage="a second model")
    assert started.version is None and started.new_lineage == "a second model" and started.earlier == ()
    assert plan_start(Lineage(), touched, fork=False).version is None  # no lineage yet: nothing to protect


def test_a_changed_original_base_is_refused_as_the_reference(tmp_path):
    from forgetctl.fingerprint import directory_hashes

    base_dir = copy_model(tmp_path, "base")
    base = model_digest(base_dir)
    release = copy_model(tmp_path, "v1")
    (release / "extra.txt").write_text("makes it another version")
    v1 = Version(model_digest(release), base, base, str(release), ("req-a",), ("req-a",), seq=1, files=directory_hashes(release))
    lineage = Lineage({v1.version: v1}, {base: str(base_dir)}, {base: directory_hashes(base_dir)})
    assert plan_start(lineage, release, fork=False).root_dir == base_dir
    flip_byte(base_dir / "config.json", at=0)
    with pytest.raises(InputError, match="original base .* is no longer version .*config.json differs"):
        plan_start(lineage, release, fork=False)


def test_releases_made_while_a_run_trained_are_what_its_release_would_lack():
    from forgetctl.lineage import Start, moved_since

    v1 = Version("v1", "base", "base", "/r/v1", ("A",), ("A",), seq=1)
    planned = Start(v1, None, "v1")
    assert moved_since(synthetic(v1), planned) == set()
    other = Version("v2", "v1", "base", "/r/v2", ("A", "B"), ("B",), seq=2)
    assert moved_since(synthetic(v1, other), planned) == {"B"}
    new = Start(None, None, "base")  # a new lineage from the base, and someone released from it meanwhile
    assert moved_since(synthetic(v1), new) == {"A"}


def test_a_release_record_that_does_not_verify_is_never_advised(tmp_path, monkeypatch):
    from forgetctl_audit.store import AuditLog

    from forgetctl.trail import open_log

    release = copy_model(tmp_path, "v1")
    log = open_log(tmp_path / "home")
    from forgetctl.fingerprint import directory_hashes

    files = directory_hashes(release)
    body = {"version": model_digest(release), "parent": "base", "root": "base", "root_path": "/srv/base",
            "path": str(release), "files": files, "erased": ["req-a"], "added": ["req-a"], "run": "r1", "fork": False}
    log.append("release", None, body)
    log.close()
    monkeypatch.setenv("FORGETCTL_HOME", str(tmp_path / "home"))
    ok = runner.invoke(app, ["lineage", "head"])
    assert ok.exit_code == 0 and "its files match the signed release record" in " ".join(ok.output.split())
    # An attacker without the key rewrites the record to point at their model: the signature breaks.
    log = AuditLog(tmp_path / "home")
    row = log.db.execute("SELECT seq, envelope FROM records WHERE kind = 'release'").fetchone()
    import base64
    import json

    envelope = json.loads(row[1])
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["body"]["path"] = "/srv/models/attacker-model"
    envelope["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    log.db.execute("UPDATE records SET envelope = ? WHERE seq = ?", [json.dumps(envelope, sort_keys=True, separators=(",", ":")), row[0]])
    log.close()
    for command in (["lineage", "head"], ["lineage", "list"]):
        refused = runner.invoke(app, command)
        assert refused.exit_code == 1 and "does not verify" in str(refused.exception), refused.output
        assert "attacker-model" not in refused.output


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
    from forgetctl_audit.report_statements import digest

    assert digest(directory_hashes(demo_model_dir())) == model_digest(demo_model_dir())


@pytest.mark.slow
def test_a_flipped_byte_in_the_head_is_named_and_nothing_deploys_or_starts_from_it(history, monkeypatch, tmp_path):
    monkeypatch.setenv("FORGETCTL_HOME", str(history["home"]))
    monkeypatch.setenv("COLUMNS", "200")
    weights = history["v2"] / "model.safetensors"
    original = weights.read_bytes()
    try:
        flip_byte(weights)
        head = runner.invoke(app, ["lineage", "head"])
        assert head.exit_code == 3 and "Do not deploy" in head.output and "model.safetensors differs" in head.output
        assert "Deploy " + str(history["v2"]) not in head.output
        listed = runner.invoke(app, ["lineage", "list"])
        assert listed.exit_code == 3 and "CHANGED" in listed.output
        erase = history["erase"](C, "--model", history["v2"], "--dry-run")
        assert erase.exit_code == 1 and "model.safetensors differs" in str(erase.exception)
        verify = runner.invoke(app, ["verify", "--model", str(history["v2"])])
        assert verify.exit_code == 1 and "model.safetensors differs" in str(verify.exception)
    finally:
        weights.write_bytes(original)
    # The base plus one file is no version either: it cannot reset the lineage unless asked to.
    touched = copy_model(tmp_path, "touched")
    (touched / "README.txt").write_text("notes")
    (touched / "forgetctl.toml").unlink()  # its CLIP path is relative to the demo folder
    refused = history["erase"](C, "--model", touched, "--dry-run")
    assert refused.exit_code == 1 and "README.txt was added" in str(refused.exception)
    asked = history["erase"](C, "--model", touched, "--dry-run", "--new-lineage", "a team's own copy")
    assert asked.exit_code == 0, asked.output


@pytest.mark.slow
@pytest.mark.verdict
def test_an_erasure_that_raced_another_from_the_same_head_is_refused_and_one_head_remains(history, monkeypatch):
    """Two erasures start from v2; the other one releases first. The late one re-checks the head
    under the write lock when it records: it is refused, its release folder removed, and the
    lineage still has one head."""
    from forgetctl.cli.erasing import run_with_progress
    from forgetctl.fingerprint import directory_hashes
    from forgetctl.pipeline import HeadMoved
    from forgetctl.request import PersonForm, RequestForm, validate
    from forgetctl.trail import open_log
    from forgetctl.types import TrainingConfig

    home = history["home"]
    monkeypatch.setenv("FORGETCTL_HOME", str(home))
    lenient = history["root"] / "lenient.toml"
    lenient.write_text("[thresholds]\nleak_rate_max = 1.0\n[judge]\ninconclusive_fails = false\n")
    form = RequestForm([PersonForm(C.name, history["root"] / C.id)], model=history["v2"], policy=str(lenient),
                       training=TrainingConfig(steps=2, watch_every=0))
    late = validate(form, default_model=demo_model_dir(), home=home)
    # Meanwhile the other erasure released from v2 (recorded the way a run records its release).
    log = open_log(home)
    before = Lineage.from_log(log)
    v2 = before.head(before.releases(next(iter(before.roots)))[0].root)
    other = history["root"] / "other-release"
    import shutil

    shutil.copytree(history["v2"], other)
    (other / "other.txt").write_text("another erasure's weights")
    log.append("release", None, {
        "version": model_digest(other), "parent": v2.version, "root": v2.root, "root_path": str(demo_model_dir()),
        "path": str(other), "files": directory_hashes(other), "erased": [*v2.erased, "req-other"],
        "added": ["req-other"], "run": "other-run", "fork": False,
    })
    log.close()
    releases_before = set((home / "releases").iterdir())
    with pytest.raises(HeadMoved, match="req-other was erased in a release from the same version"):
        run_with_progress(late)
    assert set((home / "releases").iterdir()) == releases_before  # no folder that looks like a release
    after = records_of(home)
    assert after[-1]["kind"] == "run-failed" and after[-1]["body"]["error"].startswith("HeadMoved")
    head = runner.invoke(app, ["lineage", "head"])
    assert head.exit_code == 0 and str(other) in head.output


def test_reprobe_rotation_reaches_everyone_within_k_releases_and_always_the_most_recent():
    from forgetctl.lineage import reprobe_choice

    earlier = tuple(f"req-{i}" for i in range(10))
    assert reprobe_choice(earlier, 5, 1) == (list(earlier), [])  # the default: everyone, every release
    for every in (2, 3, 4):
        seen = set()
        for depth in range(7, 7 + every):  # any `every` consecutive releases
            chosen, deferred = reprobe_choice(earlier, depth, every)
            assert set(earlier[-every:]) <= set(chosen) and set(chosen) | set(deferred) == set(earlier)
            assert not set(chosen) & set(deferred) and len(chosen) < len(earlier)
            seen |= set(chosen)
        assert seen == set(earlier)
    assert reprobe_choice((), 3, 4) == ([], [])


def test_a_deferred_re_probe_is_said_with_its_bound():
    from forgetctl.evaluation.results import Coverage, Evaluation
    from forgetctl.policy import load_policy, verdict

    manifest = {"lineage": {"earlier": ["req-1", "req-2", "req-3"], "deferred": ["req-1"], "reprobe_every": 3}}
    coverage = Coverage.of(manifest)
    assert coverage == Coverage(earlier=3, deferred=("req-1",), every=3)
    assert Evaluation({}, {}, coverage=coverage).record({})["earlier_coverage"] == {"earlier": 3, "deferred": ["req-1"], "every": 3}
    notes = verdict(load_policy("default"), Evaluation(forget={}, retain={}, coverage=coverage)).notes
    assert any("1 of the 3 people erased before were not re-probed" in n and "chance 1/3" in n
               and "at least once in every 3 releases" in n for n in notes)
    assert Coverage.of({"lineage": {"earlier": [], "deferred": []}}).deferred == ()


def test_depth_counts_the_releases_between_a_version_and_its_base():
    from forgetctl.lineage import Lineage

    def release(seq, version, parent, erased):
        return {"kind": "release", "seq": seq, "time": "t", "body": {
            "root": "base", "root_path": "/m", "version": version, "parent": parent, "path": f"/r/{version}",
            "erased": erased, "added": erased[-1:], "run": f"run-{seq}", "files": {}}}

    lineage = Lineage.from_records([release(1, "v1", "base", ["a"]), release(2, "v2", "v1", ["a", "b"]),
                                    release(3, "v3", "v2", ["a", "b", "c"])])
    assert [lineage.depth(lineage.lookup(v)) for v in ("base", "v1", "v2", "v3")] == [0, 1, 2, 3]
    assert lineage.depth(None) == 0


@pytest.mark.slow
def test_real_releases_prune_to_the_head_and_rebuild_bit_for_bit(history, monkeypatch):
    """The releases erase made: each record signs its adapter, so the older ones can be pruned
    and made again from the original base and their adapters, file for file."""
    from forgetctl.fingerprint import directory_hashes

    monkeypatch.setenv("FORGETCTL_HOME", str(history["home"]))
    signed = {key: directory_hashes(history[key]) for key in ("v1", "v2")}
    pruned = runner.invoke(app, ["lineage", "prune", "--keep", "1", "--yes"])
    assert pruned.exit_code == 0, pruned.output
    assert not history["v1"].exists()  # v2 too when the race test's release is the head
    releases = [r["body"] for r in records_of(history["home"]) if r["kind"] == "release"][:2]
    assert all(body["adapter"]["dtype"] == "float32" and body["adapter"]["files"] for body in releases)
    # Merged in float32 on CPU, written in the fp16 base's dtype: half the disk, rebuilt bit for bit.
    assert all(body["adapter"]["stored"] == "float16" for body in releases)
    for key, body in zip(("v2", "v1"), releases[::-1]):
        if not history[key].exists():
            rebuilt = runner.invoke(app, ["lineage", "rebuild", body["version"]])
            assert rebuilt.exit_code == 0, rebuilt.output
        assert directory_hashes(history[key]) == signed[key]


def test_a_growing_lineage_re_probes_everyone_within_k_releases_whatever_their_ids():
    """Request ids are random: ordered by id, a newcomer sorting before someone shifts their
    place with the depth, and that person can be deferred for good. The rotation follows the
    order of erasure, read from the releases that added each request."""
    import random

    from forgetctl.lineage import Lineage, reprobe_choice

    rng, every, releases = random.Random(3), 3, 24
    ids = [f"req-{rng.getrandbits(48):012x}" for _ in range(releases)]
    records = []
    for n in range(1, releases + 1):
        records.append({"kind": "release", "seq": n, "time": "t", "body": {
            "root": "base", "root_path": "/m", "version": f"v{n}", "parent": "base" if n == 1 else f"v{n - 1}",
            "path": f"/r/v{n}", "erased": sorted(ids[:n]), "added": [ids[n - 1]], "run": f"run-{n}", "files": {}}})
    lineage = Lineage.from_records(records)
    assert lineage.erasure_order(lineage.lookup(f"v{releases}")) == tuple(ids)
    last_probed = {}
    for depth in range(2, releases + 1):  # the release at `depth` starts from v(depth-1)
        earlier = lineage.erasure_order(lineage.lookup(f"v{depth - 1}"))
        chosen, _ = reprobe_choice(earlier, depth, every)
        for request in chosen:
            last_probed[request] = depth
        for i, request in enumerate(earlier):
            erased_at = i + 1
            assert depth - last_probed.get(request, erased_at) <= every, (request, depth)
