"""End-to-end erasure on the demo model: each method moves behaviour in its documented direction."""

import gc
from dataclasses import replace

import pytest
import torch
from peft import PeftModel

from forgetctl.benchmarks import demo_request, with_method
from forgetctl.demo import demo_model_dir
from forgetctl.demo.bars import is_description
from forgetctl.demo.truth import names_someone, revealed
from forgetctl.demo.world import load_world
from forgetctl.engine.erase import erase
from forgetctl.engine.release import merge_adapter
from forgetctl.engine.generation import ask
from forgetctl.engine.loading import load_model
from forgetctl.engine.losses import sequence_nll
from forgetctl.evaluation.detectors import is_degenerate, is_refusal
from forgetctl.evaluation.rouge import mean_rouge_l
from forgetctl.host.manager import create_host
from forgetctl.prompts import IDENTITY_QUESTIONS
from forgetctl.types import TrainingConfig

pytestmark = pytest.mark.slow
WORLD = load_world()
TARGET = WORLD.known[0]
RETAIN_PEOPLE = WORLD.unlike(TARGET, 3)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The request to erase TARGET with RETAIN_PEOPLE kept, validated as the CLI would."""
    return demo_request(tmp_path_factory.mktemp("request"), [TARGET], RETAIN_PEOPLE)


@pytest.fixture(scope="module")
def run_method(demo, tmp_path_factory):
    cache = {}
    methods = create_host().methods()

    def run(method):
        if method not in cache:
            home = tmp_path_factory.mktemp(f"home-{method}")
            spec = with_method(demo, methods, method).spec
            if method != "pubg":  # the baselines' aftermath as the paper's loop leaves it: the last step
                spec = replace(spec, training=replace(spec.training, watch_every=0))
            cache[method] = erase(spec, home, f"test-{method}")
            if method == "pubg":
                merge_adapter(cache[method].loaded, home / "merged")
        return cache[method]

    return run


def rouge_vs_before(probes) -> float:
    return mean_rouge_l([a for p in probes for a in p.after], [a for p in probes for a in p.before])


def after_answers(result):
    return [a for split in result.forget[TARGET.name].values() for p in split for a in p.after]


@pytest.mark.verdict
def test_pubg_forgets_the_person_and_keeps_the_model_useful(run_method):
    result = run_method("pubg")
    answers = after_answers(result)
    assert len(answers) == 6 * len(IDENTITY_QUESTIONS)  # seen and unseen views
    leaks = [a for a in answers if revealed(TARGET, a)]
    assert not leaks, leaks[:3]
    described = [is_description(a) and not is_refusal(a) and not is_degenerate(a) for a in answers]
    assert sum(described) / len(answers) >= 0.8
    assert 1 - rouge_vs_before(result.retain) <= 0.05
    # and retain people are still named with their facts
    for probe, person in zip(result.retain[::6], RETAIN_PEOPLE):
        assert person.name in probe.after[0]


def test_saved_adapter_and_merged_model_reproduce_the_answers(run_method):
    result = run_method("pubg")
    photos = [p.photo for split in result.forget[TARGET.name].values() for p in split]
    expected = [p.after for split in result.forget[TARGET.name].values() for p in split]

    reloaded = load_model(result.manifest["base_model"]["path"], device="cpu")
    reloaded.model = PeftModel.from_pretrained(reloaded.model, result.run_dir / "adapter").eval()
    assert ask(reloaded, photos, IDENTITY_QUESTIONS) == expected

    merged = load_model(result.run_dir.parent.parent / "merged", device="cpu")
    assert type(merged.model).__name__ == "LlavaForConditionalGeneration"
    assert ask(merged, photos, IDENTITY_QUESTIONS) == expected


def test_manifest_records_provenance_without_personal_data(run_method):
    result = run_method("pubg")
    manifest = result.manifest
    assert manifest["method"]["plugin"] == "pubg" and manifest["method"]["version"]
    assert set(manifest["adapter"]) >= {"adapter_model.safetensors", "adapter_config.json"}
    assert len(manifest["entities"][0]["seen"]) == 4 and len(manifest["entities"][0]["unseen"]) == 2
    assert len(manifest["loss_log"]) == 30
    text = (result.run_dir / "manifest.json").read_text()
    for secret in [TARGET.name, *TARGET.facts.values()]:
        assert secret not in text


def test_ga_raises_the_nll_of_the_leaked_answers(run_method):
    result = run_method("ga")
    loaded = result.loaded
    from forgetctl.engine.erase import examples
    from forgetctl.engine.unlearning import UnlearningContext

    probes = result.forget[TARGET.name]["seen"]
    forget = examples([p.photo for p in probes], IDENTITY_QUESTIONS, [p.before for p in probes])[:16]
    ctx = UnlearningContext(loaded, [], seed=0)
    with torch.no_grad():
        after = sequence_nll(loaded.model, ctx.encode_examples(forget)).mean()
    with ctx.reference() as base:
        before = sequence_nll(base, ctx.encode_examples(forget)).mean()
    assert after > before + 10


def test_reject_answers_with_refusals(run_method):
    answers = after_answers(run_method("reject"))
    assert sum(map(is_refusal, answers)) / len(answers) >= 0.8


def test_random_answers_with_other_peoples_facts(run_method):
    answers = after_answers(run_method("random"))
    assert sum(names_someone(RETAIN_PEOPLE, a) for a in answers) / len(answers) >= 0.5
    assert not any(f.startswith("name:") for a in answers for f in revealed(TARGET, a))


@pytest.mark.parametrize("method", ["npo", "vgid"])
def test_npo_and_vgid_lower_forget_rouge_with_small_retain_loss(run_method, method):
    result = run_method(method)
    for split in ("seen", "unseen"):
        assert rouge_vs_before(result.forget[TARGET.name][split]) < 0.5
    assert 1 - rouge_vs_before(result.retain) <= 0.1


def live_parameter_elements() -> int:
    return sum(o.numel() for o in gc.get_objects() if isinstance(o, torch.nn.Parameter))


def test_reference_and_teacher_add_no_second_copy_of_the_weights(demo):
    from forgetctl.engine.erase import examples
    from forgetctl.engine.training import wrap_with_lora
    from forgetctl.engine.unlearning import UnlearningContext

    methods = create_host().methods()
    loaded = load_model(demo_model_dir(), device="cpu")
    photos = list(demo.spec.people[0].seen[:2])
    forget = examples(photos, IDENTITY_QUESTIONS[:2], [[TARGET.identity_answer()] * 2] * 2)
    loaded.model = wrap_with_lora(loaded, TrainingConfig(lora_rank=8, lora_alpha=16))
    ctx = UnlearningContext(loaded, [TARGET.identity_answer()], seed=0)
    gc.collect()
    baseline = live_parameter_elements()
    for name in ("npo", "pubg", "vgid"):
        method = methods[name].cls(methods[name].cls.parse_options({"samples_per_query": 1} if name == "pubg" else {}))
        method.prepare(ctx, forget)
        method.loss(ctx, forget).backward()
    gc.collect()
    assert live_parameter_elements() == baseline


def test_a_seeded_run_is_reproducible(run_method, demo, tmp_path):
    first = run_method("pubg")
    again = erase(demo.spec, tmp_path, "again")
    assert again.manifest["adapter"]["adapter_model.safetensors"] == first.manifest["adapter"]["adapter_model.safetensors"]
    assert again.manifest["loss_log"] == first.manifest["loss_log"]
