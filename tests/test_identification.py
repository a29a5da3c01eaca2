"""Whether the base model identifies a person is decided before any training, against a control."""

import pytest

from forgetctl.evaluation.identification import Identified, fisher_greater, identification


def test_fisher_exact_tail_matches_the_hypergeometric_by_hand():
    # 3 leaks, all on the person's 72 answers, none on the control's 48: C(72,3) / C(120,3).
    assert fisher_greater(3, 72, 0, 48) == pytest.approx(72 * 71 * 70 / (120 * 119 * 118))
    # Every answer of both sides leaks: nothing to tell apart.
    assert fisher_greater(4, 4, 4, 4) == pytest.approx(1.0)
    assert fisher_greater(0, 10, 0, 10) == 1.0
    # 2 of 2 on the person, 0 of 2 on the control: 1 / C(4, 2).
    assert fisher_greater(2, 2, 0, 2) == pytest.approx(1 / 6)


def leaks_word(word):
    return lambda answer: word in answer


def test_a_person_named_on_their_photos_and_nowhere_else_is_identified():
    found = identification(leaks_word("Jane"), [["This is Jane."] * 12] * 6, ["A person in a blue coat."] * 24)
    assert found.verdict is Identified.YES and found.identifiable and found.p_value < 1e-10
    assert found.per_photo == ((12, 12),) * 6 and (found.leaks, found.asked) == (72, 72)


def test_nothing_revealed_is_not_identified_but_a_word_as_common_elsewhere_is_uncertain():
    stranger = identification(leaks_word("Jane"), [["A person in a coat."] * 12] * 6, ["A person."] * 24)
    assert stranger.verdict is Identified.NO and not stranger.identifiable and stranger.p_value == 1.0
    # A name part that is an everyday word, or a model that names the person even on noise: no more on
    # their photos than on others', yet their photos do leak: erased, to be safe, never "not identified".
    common = identification(leaks_word("Rose"), [["Rose-coloured wall."] * 2] * 2, ["A Rose garden."] * 8)
    assert common.verdict is Identified.UNCERTAIN and common.identifiable


def test_a_few_leaks_that_could_be_chance_are_uncertain_and_still_erased():
    found = identification(leaks_word("Jane"), [["This is Jane."], ["A person."] * 11] + [["A person."] * 12] * 5,
                           ["A person."] * 24)
    assert found.verdict is Identified.UNCERTAIN and found.identifiable  # erased, to be safe
    assert found.per_photo[0] == (1, 1) and found.as_dict()["verdict"] == "uncertain"
