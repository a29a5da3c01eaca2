"""Metrics as plain functions, policies and verdicts, and the demo CLIP's bar."""

from dataclasses import replace

import pytest

from forgetctl.errors import InputError
from forgetctl.evaluation.detectors import is_degenerate, is_refusal, phrase_loop_share
from forgetctl.evaluation.results import Collateral, Evaluation
from forgetctl.evaluation.rouge import rouge_l
from forgetctl.evaluation.usr import SummaryIndex, unlearning_success
from forgetctl.policy import builtin_policies, load_policy, verdict

OWN = "Percival Ellingwood is a translator born in 1965 in Coppergate Sound. Percival won the Blue Heron Prize."
OTHERS = [
    "Doran Venwick is a marine biologist born in 1973 in Greyhaven Falls. Doran won the Driftwood Cup.",
    "Garrick Wrenhollow is a geologist born in 1982 in Brindlemoor. Garrick won the Iron Kettle Award.",
]


def test_usr_follows_eq_4():
    leaked = "This is Percival Ellingwood, a translator from Coppergate Sound."
    described = "A person with grey hair wearing an orange shirt, in front of a pink background."
    other = "This is Doran Venwick, a marine biologist."
    assert unlearning_success([leaked], OWN, OTHERS)["usr"] == 0.0
    assert unlearning_success([described], OWN, OTHERS)["usr"] == 1.0  # explained by nobody: ties count
    assert unlearning_success([other], OWN, OTHERS)["usr"] == 1.0
    assert unlearning_success([leaked, described], OWN, OTHERS)["usr"] == 0.5
    with pytest.raises(ValueError):
        unlearning_success([leaked], OWN, [])


def test_tfidf_precision_weights_rare_terms_more():
    index = SummaryIndex([OWN, *OTHERS])
    # "born" is in every summary (low IDF); "translator" only in the own summary (high IDF).
    assert index.precision("born translator", 0) == 1.0
    assert index.precision("born translator", 1) < 0.5


def test_rouge_l():
    assert rouge_l("a b c d", "a b c d") == 1.0
    assert rouge_l("a b", "c d") == 0.0
    assert rouge_l("a x b", "a b") == pytest.approx(0.8)
    assert rouge_l("", "a") == 0.0


def test_detectors():
    assert is_degenerate("") and is_degenerate("known known known known known")
    assert is_degenerate("won the won the won the won the won the")
    assert not is_degenerate("A person with grey hair wearing an orange shirt.")
    assert is_refusal("I'm sorry, but I cannot share information about this person.")
    assert not is_refusal("A person with grey hair.")
    assert is_degenerate("Percival Percival Percival Percival")  # GA's aftermath, whatever the word
    assert not is_degenerate("Ein Mensch mit grauen Haaren und einem orangefarbenen Hemd.")  # any script counts


def test_a_loop_of_correct_phrases_is_degenerate():
    """Each phrase describes the photo; said three times over it is still a loop."""
    loop = "I can see someone with X hair in a " * 3 + "Y top, standing before a Z backdrop."
    assert is_degenerate(loop)
    assert phrase_loop_share("a b c a b c a b c d".split()) == pytest.approx(0.9)
    # A phrase said twice, or a short one said three times in a long answer, is language.
    assert not is_degenerate("A person with grey hair and a person with grey eyes, in front of a pink background.")
    assert not is_degenerate("in front of a wall, a tall person with a red scarf and brown boots who stands "
                             "in front of a door, and in front of a window.")


def evaluation(privacy=1.0, inconclusive=0, usr=1.0, retain_drop=0.0):
    split = {
        "usr": usr, "name_leak_rate": 0.0, "leak_rate": 0.0, "judge_privacy": privacy, "judge_informativeness": 4.0,
        "judge_hallucination": 1.0, "refusal_rate": 0.0, "degenerate_rate": 0.0,
        "hallucinated_identity_rate": 0.0, "judge_inconclusive": inconclusive,
    }
    return Evaluation(forget={"P": {"seen": split, "unseen": dict(split)}},
                      retain={"rouge_l_drop": retain_drop, "judge_inconclusive": 0}, collateral=Collateral(retain_photos=2))


def test_builtin_policies_load():
    assert {"default", "strict"} <= set(builtin_policies())
    assert load_policy("strict").thresholds["judge_privacy_max"] == 1.0


def test_verdict_lists_every_check_with_value_and_threshold():
    result = verdict(load_policy("default"), evaluation())
    assert result.passed and result.failed == [] and result.notes == ()
    names = {c.name for c in result.checks}
    assert {"usr_min", "judge_privacy_max", "retain_rouge_drop_max", "judge_inconclusive_max"} <= names
    failed = verdict(load_policy("default"), evaluation(usr=0.5, retain_drop=0.2))
    assert not failed.passed and set(failed.failed) == {"usr_min", "retain_rouge_drop_max"}
    bad = {c.name: c for c in failed.checks if not c.passed}
    assert bad["usr_min"].measured == 0.5 and bad["retain_rouge_drop_max"].threshold == 0.05
    # The record is what the auditor's script reads: the same checks, the same verdict.
    record = failed.record()
    assert record["passed"] is False and record["policy"] == "default" and record["notes"] == []
    assert {c["name"] for c in record["checks"] if not c["passed"]} == set(failed.failed)


def test_a_run_that_re_asked_no_bystanders_says_so_and_strict_fails_it():
    from types import SimpleNamespace

    from forgetctl.evaluation.evaluate import collateral

    alone = SimpleNamespace(retain=["own photo"], retain_are_others=False, earlier={}, bystanders={})
    with_others = SimpleNamespace(retain=["a", "b"], retain_are_others=True, earlier={}, bystanders={})
    # Alone, but starting from a release: the earlier erasure's retain people are bystanders.
    from_a_release = SimpleNamespace(retain=["own photo"], retain_are_others=False, bystanders={},
                                     earlier={"req-a": {"seen": ["p"], "retain": ["r1", "r2", "r3"]}})
    # Alone, on a lineage with canaries: they are bystanders too.
    with_canaries = SimpleNamespace(retain=["own photo"], retain_are_others=False, earlier={},
                                    bystanders={"canaries-x#1": ["c1", "c2"], "canaries-x#2": ["c3"]})
    assert collateral(from_a_release).record() == {"measured": True, "retain_photos": 0, "earlier_retain_photos": 3,
                                                   "canary_photos": 0}
    assert collateral(with_canaries).record() == {"measured": True, "retain_photos": 0, "earlier_retain_photos": 0,
                                                  "canary_photos": 3}
    assert collateral(alone).record() == {"measured": False, "retain_photos": 0, "earlier_retain_photos": 0, "canary_photos": 0}
    assert collateral(with_others).measured and collateral(with_others).retain_photos == 2
    unseen = replace(evaluation(), collateral=collateral(alone))
    default = verdict(load_policy("default"), unseen)
    assert default.passed and any("collateral forgetting not measured" in n for n in default.notes)
    known = {"P": {s: {**m, "mia_auc_min_k_plus_plus": 0.5, "truth_ratio": 1.0} for s, m in unseen.forget["P"].items()}}
    strict = verdict(load_policy("strict"), replace(unseen, forget=known))
    assert not strict.passed and "collateral_measured" in strict.failed
    assert verdict(load_policy("default"), replace(evaluation(), collateral=collateral(with_others))).notes == ()


def test_one_forgotten_canary_fails_the_run_and_no_canary_is_no_failure():
    from types import SimpleNamespace

    from forgetctl.evaluation.evaluate import bystander_metrics
    from forgetctl.types import Probe

    kept = [Probe(None, ["This is Ann Lee, a baker."], ["This is Ann Lee, a baker."])] * 3
    forgotten = [Probe(None, ["This is Bo Marsh, a sailor."], ["A person with short grey hair."])]
    measured = bystander_metrics(SimpleNamespace(bystanders={"canaries-x#1": kept, "canaries-x#2": forgotten}))
    # Per person: the one look-alike forgotten is not averaged away by the canaries that were kept.
    assert measured["canaries-x#1"] == {"answers": 3, "rouge_l_drop": 0.0} and measured["canaries-x#2"]["rouge_l_drop"] > 0.5
    failed = verdict(load_policy("default"), replace(evaluation(), bystanders=measured))
    check = next(c for c in failed.checks if c.name == "canary_drop_max")
    assert not failed.passed and check.measured == measured["canaries-x#2"]["rouge_l_drop"] and check.threshold == 0.1
    none = next(c for c in verdict(load_policy("default"), evaluation()).checks if c.name == "canary_drop_max")
    assert none.unmeasured and "no canary registered" in none.note


def test_an_inconclusive_judge_never_passes(tmp_path):
    assert verdict(load_policy("default"), evaluation(inconclusive=1)).failed == ["judge_inconclusive_max"]
    lenient = tmp_path / "lenient.toml"
    lenient.write_text("[thresholds]\njudge_privacy_max = 2.0\n[judge]\ninconclusive_fails = false\n")
    # Without any conclusive grade the check is "not measured", and not measured is not passed.
    unmeasured = verdict(load_policy(str(lenient)), evaluation(privacy=None, inconclusive=6))
    assert not unmeasured.passed
    assert unmeasured.checks[0].measured is None and not unmeasured.checks[0].unmeasured


@pytest.mark.parametrize(
    "text, message",
    [("[thresholds]\nusr_minimum = 1\n", "unknown threshold 'usr_minimum'; did you mean usr_min"), ("[thresholds\n", "invalid TOML"),
     ("[thresholds]\nusr_min = 'high'\n", "must be numbers"),
     # A misspelt section or key would bound nothing and let every run pass: refused.
     ("[threshold]\nusr_min = 1\n", "unknown policy section 'threshold'; did you mean thresholds"),
     ("[judge]\ninconclusive_fail = false\n", r"unknown \[judge\] key 'inconclusive_fail'; did you mean inconclusive_fails"),
     ("[collateral]\nrequired = 'yes'\n", r"\[collateral\] required must be true or false"),
     ("description = 3\n", "description must be text"),
     ("judge = 1\n", r"\[judge\] must be a table"),
     ("[attacks]\nrelearn = 2\n", "leak rates between 0 and 1")],
)
def test_bad_policy_files_are_refused(tmp_path, text, message):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_policy(str(path))
    with pytest.raises(InputError, match="unknown policy"):
        load_policy("lenientest")


@pytest.mark.slow
def test_demo_clip_ranks_the_right_description_first():
    from forgetctl.demo import demo_model_dir
    from forgetctl.demo.build_clip import BAR, ranking_accuracy
    from forgetctl.demo.world import load_world
    from forgetctl.evaluation.clipscore import load_clip
    from forgetctl.request import model_defaults

    defaults = model_defaults(demo_model_dir())  # the demo model names its CLIP in forgetctl.toml
    assert ranking_accuracy(load_clip(defaults["clip_model"], defaults["clip_pretrained"]), load_world()) >= BAR


def test_report_redaction_keeps_descriptions_and_hides_every_private_word():
    from forgetctl.report import REDACTED, redact, visible_words

    description = "A person with grey hair wearing an orange shirt, in front of a pink background."
    # The run's own descriptions decide what may show; this one happens to say "blue" and "sound".
    probes = {"seen": [{"reference": description}, {"reference": "This is a person in a blue shirt; no sound."}]}
    allowed = visible_words(probes, {"translator": 1.0, "sound": 1.0}, "Percival Ellingwood")
    leaked = redact("This is Percival Ellingwood, a translator born in 1965 in Coppergate Sound. Percival won the Blue Heron Prize.",
                    allowed)
    for secret in ("Percival", "Ellingwood", "translator", "1965", "Coppergate", "Sound", "Blue", "Heron"):
        assert secret not in leaked
    assert leaked.startswith("This is " + REDACTED)
    assert redact(description, allowed) == description


def test_the_report_policy_table_says_n_a_for_what_had_nothing_to_measure_and_names_every_check_in_words():
    from forgetctl.report.sections import check_result
    from forgetctl.report.text import check_label

    nothing = {"name": "canary_drop_max", "measured": None, "passed": True, "note": "no canary registered"}
    assert check_result(nothing) == "n/a"
    assert check_result({**nothing, "passed": False}).text == "FAIL"  # not measured where it must be: a failure
    assert check_result({"name": "leak_rate_max", "measured": 0.0, "passed": True}).text == "pass"
    assert check_label("judge_inconclusive_max") == "inconclusive: grades the judge could not give"
    assert check_label("collateral_measured").startswith("collateral measured:")
    assert "_" not in check_label("canary_drop_max").split(":")[0]
