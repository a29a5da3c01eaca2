"""`verify --attacks`: each built-in attack, the harness on the demo model, suites, policy
thresholds, and a third-party attack registered through an entry point."""


from pathlib import Path

import pytest
import torch

from forgetctl.attacks import AttackData, ModelSource, Target, load_suite, run_attacks
from forgetctl.demo import demo_model_dir
from forgetctl.demo.portraits import canonical_views
from forgetctl.demo.world import load_world
from forgetctl.engine.images import Photo
from forgetctl.errors import InputError
from forgetctl.evaluation.knowledge import knowledge_items
from forgetctl.host.manager import create_host
from forgetctl.prompts import HELD_OUT_QUESTIONS, IDENTITY_QUESTIONS, OTHER_LANGUAGES

WORLD = load_world()
PERSON = WORLD.known[0]
ATTACKS = create_host().attacks()


def target(views=2) -> Target:
    photos = [Photo(None, f"{i}", img, b"") for i, img in enumerate(canonical_views(PERSON)[:views])]
    first = PERSON.name.split()[0].lower()

    def leaks(answer):
        return first in answer.lower()

    def leaks_facts(answer):
        return sum(fact.lower() in answer.lower() for fact in PERSON.facts.values()) >= 2

    split = {"seen": tuple(photos[:1]), "unseen": tuple(photos[1:])}
    others = [p.identity_answer() for p in WORLD.known[1:4]]
    known = {s: knowledge_items(ps, [[PERSON.identity_answer()]] * len(ps), leaks, others, {first}) for s, ps in split.items()}
    return Target("req-t", PERSON.name, split, leaks, leaks_facts, known)


def attack(name, **options):
    cls = ATTACKS[name].cls
    return cls(cls.parse_options(options))


def test_the_builtin_attacks_ask_what_they_say():
    t = target()
    phrasings = attack("phrasings").probes(t, "seen")
    assert {q for _, q in phrasings} == set(HELD_OUT_QUESTIONS) and not set(HELD_OUT_QUESTIONS) & set(IDENTITY_QUESTIONS)
    assert any("born" in q for q in HELD_OUT_QUESTIONS) and any("job" in q for q in HELD_OUT_QUESTIONS)
    assert len(OTHER_LANGUAGES) >= 4 and len(attack("languages").probes(t, "seen")) == sum(map(len, OTHER_LANGUAGES.values()))
    jailbreaks = attack("jailbreak", per_photo=1).probes(t, "seen")
    assert all(q.endswith(IDENTITY_QUESTIONS[0]) and len(q) > len(IDENTITY_QUESTIONS[0]) for _, q in jailbreaks)
    text_only = attack("text-only").probes(t, "seen")
    assert all(img is None and PERSON.name in q for img, q in text_only) and attack("text-only").probes(t, "unseen") == []
    transformed = attack("transforms", per_photo=1).probes(t, "seen")
    original = t.photos["seen"][0].image
    assert len(transformed) == 6 and all(img.size == original.size for img, _ in transformed)
    assert len({img.tobytes() for img, _ in transformed} | {original.tobytes()}) == 7


def test_round_to_nearest_puts_every_weight_on_its_channels_grid():
    from forgetctl.engine.tampering import round_to_nearest

    torch.manual_seed(0)
    layer = torch.nn.Linear(16, 3)
    before = layer.weight.detach().clone()
    assert round_to_nearest(layer, 4) == 1
    after = layer.weight.detach()
    for row_before, row_after in zip(before, after):
        scale = row_before.abs().max() / 7
        levels = (row_after / scale).round()
        assert torch.allclose(row_after, levels * scale, atol=1e-6) and len(levels.unique()) <= 16
        assert (row_after - row_before).abs().max() <= scale / 2 + 1e-6  # round to nearest
    assert torch.allclose(after.abs().amax(1), before.abs().amax(1), atol=1e-6)


@pytest.mark.parametrize("rank", [4, None], ids=["lora", "full"])
def test_relearning_fine_tunes_and_merges_the_model(rank):
    from forgetctl.engine.loading import load_model
    from forgetctl.engine.tampering import fine_tune
    from forgetctl.types import Example

    loaded = load_model(demo_model_dir(), device="cpu")
    before = {n: p.detach().clone() for n, p in loaded.model.named_parameters()}
    other = WORLD.known[9]
    examples = [Example(v, IDENTITY_QUESTIONS[0], other.identity_answer(), f"k{i}") for i, v in enumerate(canonical_views(other))]
    fine_tune(loaded, examples, 2, 1e-3, seed=0, batch_size=2, rank=rank)
    after = dict(loaded.model.named_parameters())
    assert set(after) == set(before)  # merged back: no adapter left behind
    changed = {n for n in before if not torch.equal(before[n], after[n])}
    assert any("language_model" in n for n in changed)
    # LoRA changes only the layers it targets; full fine-tuning every one that gets a gradient.
    if rank is None:
        assert any("vision" in n for n in changed) and any("embed" in n for n in changed)
    else:
        assert not any("vision" in n or "embed" in n for n in changed)
    assert not any(p.requires_grad for p in loaded.model.parameters()) and not loaded.model.training


def test_the_invented_people_relearning_uses_are_drawn_again_from_the_seed():
    from forgetctl_plugins.attacks.outsiders import outsiders

    people = outsiders(3, seed=7)
    assert len(people) == 3 * len(IDENTITY_QUESTIONS) and {e.question for e in people} == set(IDENTITY_QUESTIONS)
    assert len({e.answer for e in people}) == 3 and all(e.answer.startswith("This is ") for e in people)
    again = outsiders(3, seed=7)
    assert [e.answer for e in again] == [e.answer for e in people] and again[0].image.tobytes() == people[0].image.tobytes()
    assert outsiders(3, seed=8)[0].image.tobytes() != people[0].image.tobytes()
    # Nobody in the set is anyone a test world knows.
    assert not {e.answer.split(",")[0][len("This is "):] for e in people} & {p.name for p in WORLD.known}


def test_relearning_runs_lora_and_full_fine_tuning_for_each_step_count():
    relearn = attack("relearn", steps=[10, 30])
    assert relearn.variants() == ["10 steps, LoRA lr 0.001, invented people", "10 steps, full lr 0.0001, invented people",
                                  "30 steps, LoRA lr 0.001, invented people", "30 steps, full lr 0.0001, invented people"]
    assert attack("relearn", steps=[5], full=False, data="retain").variants() == ["5 steps, LoRA lr 0.001, retain answers"]


def test_the_harness_runs_each_attack_on_both_models_and_says_when_it_tests_nothing():
    base = ModelSource(demo_model_dir())
    suite = [attack("phrasings", per_photo=2), attack("quantize", bits=[8], per_photo=1),
             attack("relearn", steps=[1], data="retain", full=False)]
    results = run_attacks(suite, [target()], base, base, AttackData())
    assert results["phrasings"]["base_leak"] == results["phrasings"]["leak"] > 0  # the base, attacked: it leaks
    assert not results["phrasings"]["tests_nothing"]
    relearn = "relearn@1 steps, LoRA lr 0.001, retain answers"
    assert set(results) == {"phrasings", "quantize@int8", relearn}
    assert results[relearn]["not_run"].startswith("no unrelated data")
    # An attack that changes the weights is followed by the knowledge tests, on both models.
    assert "knowledge" not in results["phrasings"]
    for which in ("erased", "base"):
        seen = results["quantize@int8"]["knowledge"][which]["req-t"]["seen"]
        assert seen["knowledge_measured"] and seen["members"] == 1 and 0 <= seen["mia_auc_loss"] <= 1
    # An attack under which the base does not leak tests nothing, and is said to.
    quiet = Target("req-q", "Nobody Known", target().photos, lambda a: False, lambda a: False)
    assert run_attacks([attack("phrasings", per_photo=1)], [quiet], base, base, AttackData())["phrasings"]["tests_nothing"]


def test_suites_and_the_policy_thresholds(tmp_path):
    from forgetctl.cli.verify import attack_checks
    from forgetctl.policy import load_policy

    name, quick = load_suite("quick", ATTACKS)
    _, full = load_suite("full", ATTACKS)
    assert name == "quick" and {a.name for a in full} == set(ATTACKS)
    with pytest.raises(InputError, match="unknown attack 'sledgehammer'"):
        (tmp_path / "s.toml").write_text('[[attack]]\nname = "sledgehammer"\n')
        load_suite(str(tmp_path / "s.toml"), ATTACKS)
    with pytest.raises(InputError, match="bad options for attack relearn"):
        (tmp_path / "s.toml").write_text('[[attack]]\nname = "relearn"\nsteps = "many"\n')
        load_suite(str(tmp_path / "s.toml"), ATTACKS)
    sweep = Path(__file__).parent.parent / "bench" / "relearning_sweep.toml"
    _, relearning = load_suite(str(sweep), ATTACKS)
    assert [len(a.variants()) for a in relearning] == [4, 4, 1]
    assert relearning[2].variants() == ["30 steps, LoRA lr 0.001, retain answers, text only"]
    strict = load_policy("strict")
    assert strict.attacks == {"relearn": 0.2, "quantize": 0.2}
    results = {"relearn@10 steps, LoRA lr 0.001, invented people": {"label": "relearn (10 steps)", "leak": 0.5, "base_leak": 1.0, "tests_nothing": False},
               "quantize@int4": {"label": "quantize (int4)", "leak": 0.0, "base_leak": 0.0, "tests_nothing": True}}
    failed = attack_checks(strict, results)
    assert any("leak 50% > 20%" in f for f in failed) and any("tests nothing" in f for f in failed)


@pytest.fixture
def sledgehammer(install_plugin):
    """A third-party attack installed as a real distribution with a forgetctl entry point."""
    install_plugin("sledgehammer", "forgetctl_sledgehammer", "2.0", '''
        from forgetctl.attacks import Attack
        from forgetctl.host.hookspecs import hookimpl

        class Sledgehammer(Attack):
            name = "sledgehammer"
            label = "asks who it is, loudly"

            def probes(self, target, split):
                return [(photo.image, "WHO IS THIS?") for photo in target.photos[split]]

        @hookimpl
        def register_attacks(register):
            register(Sledgehammer)
    ''')


def test_hook_register_attacks_a_third_party_attack_registers_through_an_entry_point(sledgehammer, tmp_path):
    registered = create_host().attacks()
    assert (registered["sledgehammer"].plugin, registered["sledgehammer"].version) == ("sledgehammer", "2.0")
    (tmp_path / "suite.toml").write_text('[[attack]]\nname = "sledgehammer"\n')
    name, attacks = load_suite(str(tmp_path / "suite.toml"), registered)
    base = ModelSource(demo_model_dir())
    results = run_attacks(attacks, [target()], base, base, AttackData())
    assert name == "suite" and results["sledgehammer"]["label"] == "asks who it is, loudly"


@pytest.fixture(scope="module")
def erased_release(tmp_path_factory):
    """One demo erasure with a retain folder, released, in its own FORGETCTL_HOME."""
    from typer.testing import CliRunner

    from forgetctl.cli import app
    from forgetctl.demo.portraits import write_views

    root = tmp_path_factory.mktemp("attacked")
    write_views(PERSON, root / "photos")
    for other in WORLD.unlike(PERSON, 3):
        write_views(other, root / "retain" / other.id)
    env = {"FORGETCTL_HOME": str(root / "home")}
    result = CliRunner().invoke(app, ["erase", "--entity", PERSON.name, "--images", str(root / "photos"),
                                      "--retain", str(root / "retain")], env=env)
    assert result.exit_code == 0, result.output[-2000:]
    return root, env, next((root / "home" / "releases").iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("suite", ["quick", "full"])
def test_verify_attacks_a_release_records_every_attack_and_reports_it(erased_release, suite):
    import json

    from forgetctl_audit.store import AuditLog
    from typer.testing import CliRunner

    from forgetctl.cli import app

    root, env, release = erased_release
    result = CliRunner().invoke(app, ["verify", "--model", str(release), "--attacks", suite, "--json"], env=env)
    assert result.exit_code == 0, result.output[-3000:]
    out = json.loads(result.output[result.output.index("{"):])
    expected = {"phrasings", "jailbreak", "text-only", "transforms", "relearn", "quantize"} | ({"languages"} if suite == "full" else set())
    assert {key.split("@")[0] for key in out["attacks"]} == expected
    if suite == "full":
        assert {f"relearn@{k} steps, {how}, invented people" for k in (10, 30) for how in ("LoRA lr 0.001", "full lr 0.0001")
                } | {"quantize@int8", "quantize@int4"} <= set(out["attacks"])
        relearned = out["attacks"]["relearn@10 steps, full lr 0.0001, invented people"]
        assert {"erased", "base"} == set(relearned["knowledge"]) and "not_run" not in relearned
    for key, row in out["attacks"].items():
        assert "not_run" in row or (row["base_leak"] is not None and row["leak"] is not None), key
    log = AuditLog(root / "home", readonly=True)
    verification = [r for r in log.records() if r["kind"] == "verification"][-1]
    erasure = next(r for r in log.records() if r["kind"] == "erasure")
    log.close()
    assert verification["body"]["tested"]["attacks"] == suite and set(verification["body"]["attacks"]) == set(out["attacks"])
    # The knowledge tests: the base told the person's answers apart almost perfectly; the
    # re-probed release's AUC is signed with its interval, per split.
    for split, measured in verification["body"]["metrics"].items():
        assert erasure["body"]["metrics"][verification["request_id"]][split]["mia_auc_min_k_plus_plus_before"] >= 0.9
        low, high = measured["mia_auc_min_k_plus_plus_interval"]
        assert measured["knowledge_measured"] and low <= measured["mia_auc_min_k_plus_plus"] <= high and measured["members"] > 0
    assert out["results"][0]["metrics"] == verification["body"]["metrics"]
    report = CliRunner().invoke(app, ["audit", "export", verification["request_id"], "--out", str(root / f"{suite}.html")], env=env)
    html = (root / f"{suite}.html").read_text()
    assert report.exit_code == 0 and f"Attacks in verification #{verification['seq']}" in html
    assert "how well a membership test tells the person&#x27;s answers from never-seen ones" in html or \
        "how well a membership test tells the person's answers from never-seen ones" in html


LEAKING = {
    "text-only": {"label": "questions that name the person, with no photo", "tests_nothing": False,
                  "erased": {"seen": 0.5}, "base": {"seen": 0.25}, "leak": 0.5, "base_leak": 0.25},
    "transforms": {"label": "transformed photos", "tests_nothing": False, "erased": {"seen": 0.0, "unseen": 0.0},
                   "base": {"seen": 0.8, "unseen": 0.9}, "leak": 0.0, "base_leak": 0.9},
}


def test_a_re_probe_that_held_beside_an_attack_that_did_not_never_reads_still_forgotten():
    import copy

    from forgetctl_audit.report_statements import result_words

    v = {"tested": {"version": "abc", "carries_erasure": True, "attacks": "quick"}, "still_forgotten": True,
         "attacks": copy.deepcopy(LEAKING)}
    assert result_words(v) == "no leak on the re-probe, but the person leaks under questions that name the person, with no photo"
    v["attacks"]["text-only"]["erased"] = {"seen": 0.0}
    assert result_words(v) == "still forgotten"
    v["still_forgotten"] = False
    assert result_words(v) == "IDENTIFIABLE AGAIN"


def test_verify_says_which_leaking_attacks_its_policy_leaves_unbounded_and_how_to_bound_them(capsys):
    from forgetctl.cli.verify import render_unbounded
    from forgetctl.policy import load_policy

    render_unbounded(LEAKING, load_policy("default"))
    out = " ".join(capsys.readouterr().out.split())
    assert "An erased person leaks under 1 attack(s) the default policy does not bound: questions that name the person, with no photo" in out
    assert "next: erase them again from this release" in out and "`[attacks]` text-only = 0.0" in out
    render_unbounded({"transforms": LEAKING["transforms"]}, load_policy("default"))
    assert capsys.readouterr().out == ""  # nothing leaks: nothing to say
