"""The paper's pattern on a small setting (2 forget people), so regressions show: every method
prevents leaks; GA and NPO degenerate; REJECT refuses; RANDOM names other people; PUBG stays
informative with low hallucination."""

import pytest

from forgetctl.benchmarks import registered_methods
from forgetctl.benchmarks.comparison import compare, to_markdown

METHODS = registered_methods()

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rows():
    return compare(settings=(2,), methods=METHODS)["settings"]["2"]["rows"]


def test_every_method_prevents_leaks(rows):
    for method in METHODS:
        for split in ("seen", "unseen"):
            assert rows[method][f"{split}.usr"] >= 0.9, (method, split)
    assert rows["Original"]["seen.usr"] < 0.2  # the base model leaks


def test_the_aftermaths(rows):
    assert rows["ga"]["seen.degenerate_rate"] >= 0.5
    assert rows["npo"]["seen.degenerate_rate"] >= 0.5
    assert rows["reject"]["seen.refusal_rate"] >= 0.8
    assert rows["random"]["seen.hallucinated_identity_rate"] >= 0.5


def test_pubg_stays_informative_and_grounded(rows):
    pubg = rows["pubg"]
    for split in ("seen", "unseen"):
        assert pubg[f"{split}.judge_informativeness"] >= 4.0
        assert pubg[f"{split}.judge_hallucination"] <= 1.5
        assert pubg[f"{split}.degenerate_rate"] <= 0.1
        baselines = [rows[m][f"{split}.clipscore"] for m in ("ga", "npo", "random", "reject")]
        assert pubg[f"{split}.clipscore"] > max(baselines)
    assert pubg["retain.rouge_l_drop"] <= 0.05


def test_markdown_names_the_command(rows):
    text = to_markdown({"judge": {"label": "heuristic"}, "training": {"lora_rank": 128, "lora_alpha": 256,
                        "batch_size": 8, "steps": 30}, "settings": {"2": {"retain": [], "rows": rows}}}, "forgetctl bench compare --people 2")
    assert "forgetctl bench compare --people 2" in text and "| pubg |" in text
    # The knowledge tests beside the behaviour: the base model ranks the true facts; a number for every method.
    assert "What the weights still know" in text
    assert rows["Original"]["seen.mia_auc_min_k_plus_plus"] >= 0.9
    assert all(rows[m]["seen.truth_ratio"] is not None for m in METHODS)
