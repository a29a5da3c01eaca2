"""The verdicts hold on a model the evaluation code was not written for: the second world (its
own people, drawings, words, tokenizer, chat template; LLaVA-1.6 anyres layout). Through the CLI
with a retain folder: PUBG passes the default policy; GA, NPO, RANDOM and REJECT fail it, each
for its real aftermath and never because a correct description was misjudged. Without --retain,
PUBG still passes although this model names people it is only asked to describe."""

import json
import re

import pytest
from typer.testing import CliRunner

from forgetctl.benchmarks.worlds import choose
from forgetctl.cli import app
from forgetctl.errors import ExitCode
from second_world import MODEL_DIR, as_test_world

pytestmark = [pytest.mark.slow, pytest.mark.verdict]
WORLD = as_test_world()
PERSON, RETAIN = (lambda f, r: (f[0], r))(*choose(WORLD, 1, 3))
# What each method's failure must show (PUBG's: nothing). Checks a correct description could trip
# (informativeness, hallucination, privacy) fail only for methods that do not describe.
AFTERMATH = {
    "ga": {"degenerate_rate_max"},
    "npo": {"degenerate_rate_max", "leak_rate_max", "hallucinated_identity_rate_max"},
    "random": {"hallucinated_identity_rate_max", "judge_hallucination_max"},
    "reject": {"refusal_rate_max"},
}


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("second")
    WORLD.write_views(PERSON, root / "photos")
    for other in RETAIN:
        WORLD.write_views(other, root / "retain" / other.id)
    return root


def erase(photos, home, monkeypatch, *options):
    monkeypatch.setenv("FORGETCTL_HOME", str(home))
    result = CliRunner().invoke(app, [
        "erase", "--entity", PERSON.name, "--images", str(photos / "photos"), "--model", str(MODEL_DIR), *options,
    ])
    failing = set(re.findall(r"^│ (\w+)\s+│[^\n]*FAIL", result.output, re.M))
    return result, failing


def test_the_second_world_shares_no_name_and_almost_no_word_with_the_demo_world():
    from forgetctl.demo.world import load_world

    demo = load_world()
    # Letters only: years are facts any two worlds may share, not vocabulary a detector could key on.
    words = re.compile(r"[^\W\d_]+")
    demo_words = {w.lower() for p in demo.known + demo.distractors for w in words.findall(p.biography())}
    demo_words -= {"is", "a", "in", "the", "born", "won", "of", "and"}
    ours = {w.lower() for p in WORLD.people for w in words.findall(p.biography() + " " + WORLD.describe(p.looks))}
    # Five words the two worlds were built sharing by chance (copper hair / the Copper Bell Award,
    # the Alder Garland / Alder a first name, two Heron honours, Port and Cross in town names).
    # They cannot favour the evaluation: it holds neither world's words (test_no_world_vocabulary).
    # Removing them means rebuilding this model; until then the overlap may not grow.
    assert ours & demo_words <= {"alder", "copper", "cross", "heron", "port"}, ours & demo_words
    assert not {w.casefold() for p in WORLD.people for w in p.name.split()} & demo_words
    assert json.loads((MODEL_DIR / "config.json").read_text())["model_type"] == "llava_next"


def test_pubg_passes_with_a_retain_folder(photos, tmp_path, monkeypatch):
    result, failing = erase(photos, tmp_path, monkeypatch, "--retain", str(photos / "retain"))
    assert result.exit_code == 0, result.output[-3000:]
    assert not failing and "Policy default: PASSED" in result.output


def test_pubg_passes_without_a_retain_folder(photos, tmp_path, monkeypatch):
    result, failing = erase(photos, tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output[-3000:]
    assert "No --retain folder" in result.output and "CLIPScore not measured" in result.output


@pytest.mark.parametrize("method", sorted(AFTERMATH))
def test_the_baselines_fail_for_their_real_aftermath(photos, tmp_path, monkeypatch, method):
    # The baselines' aftermath as the paper's loop leaves it (the last step, not the best watched one).
    result, failing = erase(photos, tmp_path, monkeypatch, "--retain", str(photos / "retain"), "--method", method,
                            "--watch-every", "0")
    assert result.exit_code == ExitCode.CHECK_FAILED, result.output[-3000:]
    assert failing & AFTERMATH[method], (method, failing)
    assert "Recorded in the audit log as a run that failed its policy" in result.output
