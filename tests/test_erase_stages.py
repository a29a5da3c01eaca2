"""The erase stages end to end at a toy size (2 steps, rank 4): fast, so every stage runs in the
fast suite. The slow tests in test_erase.py check that the real recipe actually erases."""

import json

import pytest
from conftest import fewer_photos

from forgetctl.benchmarks import demo_request
from forgetctl.demo.world import load_world
from forgetctl.engine.erase import erase
from forgetctl.engine.loading import load_model
from forgetctl.engine.release import merge_adapter
from forgetctl.prompts import DESCRIBE_QUESTIONS, IDENTITY_QUESTIONS
from forgetctl.reporting import Reporter
from forgetctl.types import TrainingConfig

WORLD = load_world()
TOY = TrainingConfig(steps=2, batch_size=4, lora_rank=4, lora_alpha=8)


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    request = fewer_photos(demo_request(root, [WORLD.known[1]], [WORLD.known[9]], method="reject", training=TOY))
    phases, steps = [], []

    def phase(name, total):
        phases.append([name, total, 0])
        row = phases[-1]
        return lambda n: row.__setitem__(2, row[2] + n)

    report = Reporter(phase=phase, step=steps.append)
    result = erase(request.spec, root / "home", "toy-run", report)
    return request, result, phases, steps, root


def test_stages_write_a_run_with_its_manifest(toy_run):
    request, result, phases, steps, root = toy_run
    assert result.run_dir == root / "home" / "runs" / "toy-run"
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest == result.manifest and manifest["run"] == "toy-run"
    assert list(manifest["timings_s"]) == ["load", "harvest", "identify", "prepare", "train", "evaluate", "knowledge"]
    assert manifest["training"]["model_family"] == "tiny" and manifest["training"]["learning_rate"] == 2e-3
    assert manifest["method"]["hyperparameters"] == request.spec.method_options.model_dump()
    assert set(manifest["adapter"]) >= {"adapter_model.safetensors", "adapter_config.json"}
    assert len(manifest["loss_log"]) == 2 and [s["step"] for s in steps] == [0, 1]


def test_every_phase_reports_its_whole_total(toy_run):
    _, _, phases, _, _ = toy_run
    names = [p[0] for p in phases]
    assert names == ["Harvesting what the model reveals", "Describing what is visible", "Recording retain answers",
                     "Checking whom the model identifies", "Preparing method", "Training (reject)", "Asking again after erasure",
                     "Testing what the weights still know"]
    assert all(done == total for _, total, done in phases), phases


def test_probes_cover_seen_and_unseen_views_and_retain(toy_run):
    _, result, _, _, _ = toy_run
    (name, splits), = result.forget.items()
    assert (len(splits["seen"]), len(splits["unseen"])) == (2, 1)
    assert all(len(p.before) == len(p.after) == len(IDENTITY_QUESTIONS) for s in splits.values() for p in s)
    assert len(result.retain) == 2 and all(len(p.after) == 4 for p in result.retain)


def test_merge_writes_a_plain_model(toy_run, tmp_path):
    _, result, _, _, _ = toy_run
    merge_adapter(result.loaded, tmp_path / "merged")
    assert type(load_model(tmp_path / "merged", device="cpu").model).__name__ == "LlavaForConditionalGeneration"


def test_without_retain_photos_the_people_s_own_descriptions_are_kept(tmp_path):
    from forgetctl.engine.erase import harvest, load_for_run

    request = fewer_photos(demo_request(tmp_path, [WORLD.known[1]], [], training=TOY))
    notices = []
    harvested = harvest(load_for_run(request.spec.model_dir, request.spec), request.spec, Reporter(notice=notices.append))
    # The retain photos are the seen ones: the first two views.
    assert harvested.retain_questions == DESCRIBE_QUESTIONS and harvested.retain_views == harvested.views[:2]
    # The targets are the model's own in-context descriptions of those photos, never the name.
    assert {e.answer for e in harvested.retain} <= set(harvested.references[:2])
    assert not harvested.retain_are_others
    assert any("--retain" in n for n in notices)


def test_people_whose_turn_has_not_come_are_not_re_probed(toy_run):
    from dataclasses import replace

    from forgetctl.engine.regression import probe_earlier
    from forgetctl.types import Earlier

    request, result, _, _, _ = toy_run
    photo = request.spec.people[0].seen[0]
    earlier = tuple(Earlier(label, {"seen": (photo,)}, {"seen": (["x"] * len(IDENTITY_QUESTIONS),)}) for label in ("req-a", "req-b"))
    spec = replace(request.spec, earlier=earlier, deferred=("req-a",), reprobe_every=2)
    assert set(probe_earlier(result.loaded, spec)) == {"req-b"}


def test_earlier_people_s_erased_answers_are_held_unless_they_are_kept_in_the_forget_data(toy_run):
    from dataclasses import replace

    from forgetctl.engine.erase import harvest
    from forgetctl.types import Earlier

    request, result, _, _, _ = toy_run
    photo = request.spec.people[0].unseen[0]
    erased = [f"A person in a photo, answer {i}." for i in range(len(IDENTITY_QUESTIONS))]
    earlier = (Earlier("req-a", {"seen": (photo,)}, {"seen": (["leak"] * len(IDENTITY_QUESTIONS),)}, held=((photo, erased),)),)
    held = harvest(result.loaded, replace(request.spec, earlier=earlier, keep_earlier=False))
    assert [(e.question, e.answer) for e in held.held] == list(zip(IDENTITY_QUESTIONS, erased))
    kept = harvest(result.loaded, replace(request.spec, earlier=earlier, keep_earlier=True))
    assert kept.held == [] and len(kept.forget) == len(held.forget) + len(IDENTITY_QUESTIONS)
    assert [e.answer for e in kept.forget[-len(IDENTITY_QUESTIONS):]] == ["leak"] * len(IDENTITY_QUESTIONS)


SITE_METRICS = """
    from forgetctl.evaluation.metrics import AnswerMetric, Metric
    from forgetctl.host.hookspecs import hookimpl

    def mean_words(answers):
        return sum(len(a.split()) for a in answers) / len(answers) if answers else None

    class Spoken(AnswerMetric):
        name = "spoken"
        metric = Metric("spoken_words", "words", "mean words per answer", "lower", "forget")

        def measure(self, after, before):
            return mean_words(after)

    class Kept(AnswerMetric):
        name = "kept"
        metric = Metric("kept_words", "words kept", "words per answer, after over before", "higher", "retain")

        def measure(self, after, before):
            return mean_words(after) / mean_words(before)

    @hookimpl
    def register_metrics(register):
        register(Spoken)
        register(Kept)
"""


def test_hook_register_metrics_measures_site_metrics_on_every_split_and_names_their_plugin(toy_run, install_plugin):
    from forgetctl.evaluation.evaluate import evaluate_run

    install_plugin("words", "forgetctl_words", "2.0", SITE_METRICS)
    request, result, _, _, _ = toy_run
    evaluation = evaluate_run(result, request.spec.people, request.grading)

    def mean_words(answers):
        return sum(len(a.split()) for a in answers) / len(answers)

    retain = result.retain
    assert evaluation.retain["kept_words"] == pytest.approx(
        mean_words([a for p in retain for a in p.after]) / mean_words([a for p in retain for a in p.before]))
    for name, splits in result.forget.items():
        for split, probes in splits.items():
            after = [a for p in probes for a in p.after]
            assert evaluation.forget[name][split]["spoken_words"] == pytest.approx(mean_words(after))
    assert evaluation.site_metrics == {"spoken_words": "words 2.0", "kept_words": "words 2.0"}
    assert evaluation.site_failures == {}


BROKEN_METRICS = """
    from forgetctl.evaluation.metrics import AnswerMetric, Metric
    from forgetctl.host.hookspecs import hookimpl

    class Raises(AnswerMetric):
        name = "raises"
        metric = Metric("tone", "tone", "how the answers sound", "lower", "forget", ".2f", "tone_max")

        def measure(self, after, before):
            raise ValueError("quoting " + after[0])

    class Chatty(AnswerMetric):
        name = "chatty"
        metric = Metric("mood", "mood", "a word, not a number", "lower", "retain")

        def measure(self, after, before):
            return "calm"

    @hookimpl
    def register_metrics(register):
        register(Raises)
        register(Chatty)
"""


def test_a_site_metric_that_raises_or_answers_garbage_is_not_measured_and_said(toy_run, install_plugin, tmp_path):
    from forgetctl.evaluation.evaluate import evaluate_run
    from forgetctl.policy import load_policy, verdict

    install_plugin("broken", "forgetctl_broken", "0.1", BROKEN_METRICS)
    request, result, _, _, _ = toy_run
    evaluation = evaluate_run(result, request.spec.people, request.grading)  # the trained run is not lost
    assert all(m["tone"] is None for splits in evaluation.forget.values() for m in splits.values())
    assert evaluation.retain["mood"] is None
    assert evaluation.site_failures == {"tone": "broken 0.1 raised ValueError", "mood": "broken 0.1 answered str, not a number"}
    record = evaluation.record({name: "req-x" for name in evaluation.forget})
    assert record["site_failures"] == evaluation.site_failures and record["site_metrics"]["tone"] == "broken 0.1"
    assert "quoting" not in str(record)  # the exception's message may quote an answer: never recorded
    policy = tmp_path / "tone.toml"
    policy.write_text("[thresholds]\ntone_max = 1\n")
    decision = verdict(load_policy(str(policy)), evaluation)
    assert decision.failed == ["tone_max"] and any("site metric tone was not measured: broken 0.1 raised" in n
                                                    for n in decision.notes)
