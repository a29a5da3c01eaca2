"""The knowledge tests' maths on tiny inputs: perturbations, the four MIA scores, AUC and its
interval, the truth ratio and the KS forget quality."""

import math

import pytest

from forgetctl.prompts import IDENTITY_QUESTIONS as IDENTITY

from forgetctl.evaluation.knowledge import (
    Question,
    Scored,
    auc,
    auc_interval,
    knowledge,
    ks_p_value,
    min_k_plus_plus_score,
    min_k_score,
    perturb,
    perturbations,
    truth_ratio,
    zlib_score,
)


def test_a_perturbation_swaps_the_facts_aligned_on_the_shared_phrasing_and_keeps_the_name():
    true = "This is Ada Quill, a potter born in 1950 in Hollowmere."
    other = "This is Bo Marsh, a sailor born in 1971 in Dunmoor."
    assert perturb(true, other, keep={"ada", "quill"}) == "This is Ada Quill, a sailor born in 1971 in Dunmoor."
    assert perturb(true, true, keep={"ada"}) is None  # nothing to swap
    assert perturbations(true, [true, other, other], keep={"ada", "quill"}) == [
        "This is Ada Quill, a sailor born in 1971 in Dunmoor."]


def test_the_scores_follow_their_definitions():
    s = Scored("abc abc abc", (-1.0, -2.0, -3.0, -4.0, -5.0), (-2.0,) * 5, (1.0,) * 5)
    assert s.mean_nll == 3.0 and s.normalised_likelihood == pytest.approx(math.exp(-3.0))
    assert min_k_score(s, k=0.4) == pytest.approx((-5.0 + -4.0) / 2)  # the lowest 40%
    assert min_k_plus_plus_score(s, k=0.4) == pytest.approx(((-5 + 2) + (-4 + 2)) / 2)  # standardised first
    import zlib

    assert zlib_score(s) == pytest.approx(-3.0 / len(zlib.compress(b"abc abc abc")))


def test_auc_counts_ties_half_and_its_interval_is_never_a_point():
    assert auc([3, 4], [1, 2]) == 1.0 and auc([1, 2], [3, 4]) == 0.0
    assert auc([1, 2], [1, 2]) == 0.5 and auc([], [1]) is None
    low, high = auc_interval(1.0, 4, 4)
    assert low < 1.0 and high == 1.0  # four answers each cannot prove perfect separation
    narrow = auc_interval(0.8, 200, 200)
    wide = auc_interval(0.8, 10, 10)
    assert wide[0] < narrow[0] < 0.8 < narrow[1] < wide[1]


def test_truth_ratio_and_forget_quality():
    true = Scored("t", (-0.5, -0.5))
    fakes = [Scored("f1", (-2.0, -2.0)), Scored("f2", (-3.0, -3.0))]
    assert truth_ratio(true, fakes) == pytest.approx((math.exp(-2) + math.exp(-3)) / 2 / math.exp(-0.5))
    assert ks_p_value([0.1, 0.2, 0.3], [0.1, 0.2, 0.3]) == 1.0
    assert ks_p_value([0.01 * i for i in range(30)], [1 + 0.01 * i for i in range(30)]) < 1e-6


def test_a_model_that_prefers_the_truth_is_told_apart_and_one_that_does_not_is_not():
    def q(true_nll, fake_nlls):
        return Question(Scored("true", (-true_nll,) * 3, (-1.0,) * 3, (1.0,) * 3),
                        tuple(Scored(f"f{i}", (-n,) * 3, (-1.0,) * 3, (1.0,) * 3) for i, n in enumerate(fake_nlls)))

    knows = knowledge([q(0.1 + 0.01 * i, [2.0 + 0.1 * i, 2.5, 3.0]) for i in range(10)])
    assert knows["mia_auc_loss"] == 1.0 and knows["truth_ratio"] < 0.2 and knows["forget_quality"] < 0.05
    blind = knowledge([q(2.0 + 0.05 * i, [2.0 + 0.05 * ((i + 3) % 10), 2.0 + 0.05 * ((i + 5) % 10), 2.0 + 0.05 * ((i + 7) % 10)])
                       for i in range(10)])
    assert 0.3 < blind["mia_auc_loss"] < 0.7 and 0.7 < blind["truth_ratio"] < 1.4 and blind["forget_quality"] > 0.05
    assert knowledge([])["knowledge_measured"] is False
    assert "pass --retain" in knowledge([q(0.1, [])])["knowledge_note"]


def test_a_verification_rebuilds_the_knowledge_items_from_the_evidence_alone():
    import base64
    import io

    from PIL import Image

    from forgetctl.verification import knowledge_items_of

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(buffer, "PNG")
    image = base64.b64encode(buffer.getvalue()).decode()
    ada = "This is Ada Quill, a potter born in 1950 in Hollowmere."
    bo = "This is Bo Marsh, a sailor born in 1971 in Dunmoor."
    cy = "This is Cy Fenn, a baker born in 1988 in Elmstead."
    evidence = {
        "a": {"subject": "Ada Quill", "private_terms": {},
              "probes": {"seen": [{"sha256": "0" * 64, "image": image, "before": [ada, "A red square.", ada, ada, ada]}],
                         "unseen": []},
              "retain": [{"sha256": "1" * 64, "image": image, "before": [bo]}]},
        "b": {"subject": "Cy Fenn", "private_terms": {},
              "probes": {"seen": [{"sha256": "2" * 64, "image": image, "before": [cy]}]}, "retain": []},
    }
    items = knowledge_items_of(evidence)
    seen = items["a"]["seen"]
    # Only the answers that leaked, of the first four questions; facts from the retain person and the other request.
    assert [(q, true) for _, q, true, _ in seen] == [(q, ada) for q in (IDENTITY[0], IDENTITY[2], IDENTITY[3])]
    assert set(seen[0][3]) == {"This is Ada Quill, a sailor born in 1971 in Dunmoor.",
                               "This is Ada Quill, a baker born in 1988 in Elmstead."}
    assert items["a"]["unseen"] == [] and items["b"]["seen"][0][3] == [
        "This is Cy Fenn, a sailor born in 1971 in Dunmoor.", "This is Cy Fenn, a potter born in 1950 in Hollowmere."]


def test_the_worst_knowledge_over_splits_skips_what_was_not_measured():
    from forgetctl_audit.report_statements import knowledge_extremes

    splits = [{"knowledge_measured": True, "mia_auc_min_k_plus_plus": 0.9, "truth_ratio": 0.4},
              {"knowledge_measured": True, "mia_auc_min_k_plus_plus": 0.6, "truth_ratio": 0.2},
              {"knowledge_measured": False, "knowledge_note": "not measured"}]
    assert knowledge_extremes(splits) == (0.9, 0.2) and knowledge_extremes(splits[2:]) is None


def test_the_knowledge_document_puts_each_method_beside_the_base_after_relearning():
    from forgetctl.benchmarks.knowledge import to_markdown

    split = {"leak_rate": 0.0, "truth_ratio": 0.9, "mia_auc_min_k_plus_plus": 0.55, "members": 8, "non_members": 24}
    results = {"world": "w", "person": "p1", "relearn": ["10 steps, LoRA"],
               "methods": {"pubg": {"seen": split, "unseen": split,
                                    "relearned": {"10 steps, LoRA": {"seen": {"leak_rate": 0.5, "truth_ratio": 0.3,
                                                                              "mia_auc_min_k_plus_plus": 0.9}}}}},
               "base_relearned": {"10 steps, LoRA": {"not_run": "no data"}}}
    text = to_markdown([results], "python bench/knowledge.py")
    assert "| pubg | seen | 0% |" in text and "seen: 8 true, 24 perturbed" in text
    assert "| pubg | 10 steps, LoRA | 50% / n/a | 0.30 / n/a | 0.90 / n/a |" in text
    assert "| base (control) | 10 steps, LoRA | not run: no data | | |" in text


def test_the_report_states_what_the_weights_know_in_its_checked_residual_risk():
    from forgetctl_audit.report_statements import ERASURE, residual_risk

    measured = {"knowledge_measured": True, "truth_ratio": 0.54, "truth_ratio_before": 0.17, "members": 12,
                "non_members": 36, "mia_auc_min_k_plus_plus": 0.71, "mia_auc_min_k_plus_plus_before": 1.0,
                "mia_auc_min_k_plus_plus_interval": [0.55, 0.87], "leak_rate": 0.0}
    run = {"status": ERASURE, "run": "r1", "metrics": {"seen": measured}, "verdict": {"notes": []}}
    later = {k: v for k, v in measured.items() if not k.endswith("_before")}
    verification = {"seq": 9, "tested": {"carries_erasure": True}, "still_forgotten": True, "note": None,
                    "metrics": {"seen": later}, "attacks": None}
    notes = residual_risk([run], [verification])
    assert ("Run r1: In the weights: on seen photos, false facts are 0.54 times as likely as their true ones "
            "(before: 0.17; 1 would mean no preference), and a membership test tells their answers from never-seen "
            "ones with AUC 0.71 (95% 0.55-0.87; before: 1.00; 0.5 would mean it cannot), from 12 answers and 36 "
            "perturbed ones.") in notes
    (latest,) = [n for n in notes if n.startswith("The latest re-probe (verification #9)")]
    assert "AUC 0.71 (95% 0.55-0.87; 0.5 would mean it cannot)" in latest and "before" not in latest
    # Not measured is said, with why; never left out, which would read as nothing left to find.
    unmeasured = {"seen": {"knowledge_measured": False, "knowledge_note": "the base model revealed nothing"}, "unseen": {}}
    assert ("Run r1: What the weights still know (likelihoods, membership inference) was not measured: the base "
            "model revealed nothing.") in residual_risk([{**run, "metrics": unmeasured}], [])
    assert "Run r1: What the weights still know (likelihoods, membership inference) was not measured." in residual_risk(
        [{**run, "metrics": {"seen": {"leak_rate": 0.0}}}], [])  # a record from before the tests existed


def test_a_seen_photo_is_held_only_when_none_of_its_erased_answers_leaks():
    from forgetctl.evaluation.grounding import LeakDetector
    from forgetctl.verification import held_answers

    detector = LeakDetector("Ada Quill", {})
    items = [{"after": ["A woman in a hat.", "Someone outdoors."]}, {"after": ["A person.", "This is Ada."]}]
    assert held_answers(["p1", "p2"], items, detector) == (("p1", ["A woman in a hat.", "Someone outdoors."]),)
