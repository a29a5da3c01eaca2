"""The knowledge tests' maths on tiny inputs: perturbations, the four MIA scores, AUC and its
interval, the truth ratio and the KS forget quality."""

import math

import pytest

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
