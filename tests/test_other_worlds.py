"""The verdicts hold on models the evaluation code was not written for: the second world (LLaVA-1.6
anyres layout, a Mistral decoder) and the third (Qwen2-VL: its own processor, M-RoPE positions the
model builds itself, a Qwen2 decoder), each with its own people, drawings, words, tokenizer and
chat template. Through the CLI with a retain folder: PUBG passes the default policy; GA, NPO,
RANDOM and REJECT fail it, each for its real aftermath and never because a correct description was
misjudged. Without --retain, PUBG still passes."""

import itertools
import json
import re

import pytest
from typer.testing import CliRunner

import second_world
import third_world
from forgetctl.benchmarks.worlds import choose
from forgetctl.cli import app
from forgetctl.errors import ExitCode

pytestmark = [pytest.mark.slow, pytest.mark.verdict]
WORLDS = {"second": second_world.as_test_world(), "third": third_world.as_test_world()}
LAYOUT = {"second": "llava_next", "third": "qwen2_vl"}
# What each method's failure must show on each world (PUBG's: nothing). Checks a correct
# description could trip (informativeness, hallucination, privacy) fail only for methods that do
# not describe.
AFTERMATH = {
    "second": {
        "ga": {"degenerate_rate_max"},
        "npo": {"degenerate_rate_max", "leak_rate_max", "hallucinated_identity_rate_max"},
        "random": {"hallucinated_identity_rate_max", "judge_hallucination_max"},
        "reject": {"refusal_rate_max"},
    },
    "third": {
        "ga": {"degenerate_rate_max"},
        "npo": {"degenerate_rate_max"},
        "random": {"judge_hallucination_max"},
        "reject": {"refusal_rate_max"},
    },
}


@pytest.fixture(scope="module", params=sorted(WORLDS))
def world(request, tmp_path_factory):
    """A world, its person to erase and its retain folder written as a user would have them."""
    w = WORLDS[request.param]
    forget, retain = choose(w, 1, 3)
    root = tmp_path_factory.mktemp(w.name)
    w.write_views(forget[0], root / "photos")
    for other in retain:
        w.write_views(other, root / "retain" / other.id)
    return w, forget[0], root


def erase(world, home, monkeypatch, *options):
    w, person, root = world
    monkeypatch.setenv("FORGETCTL_HOME", str(home))
    result = CliRunner().invoke(app, [
        "erase", "--entity", person.name, "--images", str(root / "photos"), "--model", str(w.model_dir), *options,
    ])
    failing = set(re.findall(r"^│ (\w+)\s+│[^\n]*FAIL", result.output, re.M))
    return result, failing


def test_the_worlds_share_no_name_and_almost_no_word():
    from forgetctl.demo.world import describe, load_world

    demo = load_world()
    # Letters only: years are facts any two worlds may share, not vocabulary a detector could key on.
    words = re.compile(r"[^\W\d_]+")
    plain = {"a", "an", "and", "born", "hair", "in", "is", "of", "on", "the", "wearing", "with", "won"}

    def vocabulary(people, describe):
        return {w.lower() for p in people for w in words.findall(f"{p.biography()} {describe(p.looks) if p.looks else ''}")}

    def names(people):
        return {w.casefold() for p in people for w in p.name.split()}

    worlds = {"demo": (demo.known + demo.distractors, describe), **{n: (w.people, w.describe) for n, w in WORLDS.items()}}
    # Five words the second world was built sharing with the demo world by chance (copper hair /
    # the Copper Bell Award, the Alder Garland / Alder a first name, two Heron honours, Port and
    # Cross in town names). They cannot favour the evaluation: it holds no world's words
    # (test_no_world_vocabulary). Removing them means rebuilding that model; until then the
    # overlap may not grow.
    chance = {("demo", "second"): {"alder", "copper", "cross", "heron", "port"}}
    for a, b in itertools.combinations(worlds, 2):
        allowed = chance.get((a, b), set())
        shared = vocabulary(*worlds[a]) & vocabulary(*worlds[b]) - plain
        assert shared <= allowed, (a, b, shared)
        named = names(worlds[a][0]) & vocabulary(*worlds[b]) | names(worlds[b][0]) & vocabulary(*worlds[a])
        assert named <= allowed, (a, b, named)
    for name, w in WORLDS.items():
        assert json.loads((w.model_dir / "config.json").read_text())["model_type"] == LAYOUT[name]


def test_pubg_passes_with_a_retain_folder(world, tmp_path, monkeypatch):
    result, failing = erase(world, tmp_path, monkeypatch, "--retain", str(world[2] / "retain"))
    assert result.exit_code == 0, result.output[-3000:]
    assert not failing and "Policy default: PASSED" in result.output


def test_pubg_passes_without_a_retain_folder(world, tmp_path, monkeypatch):
    result, failing = erase(world, tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output[-3000:]
    assert "No --retain folder" in result.output and "CLIPScore not measured" in result.output


@pytest.mark.parametrize("method", ["ga", "npo", "random", "reject"])
def test_the_baselines_fail_for_their_real_aftermath(world, tmp_path, monkeypatch, method):
    # The baselines' aftermath as the paper's loop leaves it (the last step, not the best watched one).
    result, failing = erase(world, tmp_path, monkeypatch, "--retain", str(world[2] / "retain"), "--method", method,
                            "--watch-every", "0")
    assert result.exit_code == ExitCode.CHECK_FAILED, result.output[-3000:]
    assert failing & AFTERMATH[world[0].name][method], (method, failing)
    assert "Recorded in the audit log as a run that failed its policy" in result.output
