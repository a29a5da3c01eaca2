"""Every supported vision-language family beyond the demo's LLaVA, on a tiny random model built
from its config (tests/families/build.py): it loads, its processor is driven the way it wants,
training sees the positions generation sees, LoRA lands on its language model, and every
method takes two steps on it. An erase through the CLI, merge and reload are the slow part."""

import json
from dataclasses import replace

import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from forgetctl.cli import app
from forgetctl.demo.portraits import write_views
from forgetctl.demo.world import load_world
from forgetctl.engine.chat import encode_examples, encode_prompts
from forgetctl.engine.families import FAMILIES, inspect_model_dir
from forgetctl.engine.loading import load_model
from forgetctl.engine.training import train_adapter, wrap_with_lora
from forgetctl.engine.unlearning import UnlearningContext
from forgetctl.errors import ModelLoadError
from forgetctl.host.manager import create_host
from forgetctl.types import Example, TrainingConfig
from families.build import BUILDERS

TINY = TrainingConfig(steps=2, batch_size=2, lora_rank=4, lora_alpha=8, watch_every=0)
METHODS = create_host().methods()
OPTIONS = {"pubg": {"samples_per_query": 1, "max_new_tokens": 8}}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def tiny(request, tmp_path_factory):
    return request.param, BUILDERS[request.param](tmp_path_factory.mktemp(request.param) / "model")


def photos(n=2):
    return [Image.new("RGB", (64 + 8 * i, 64), color) for i, color in zip(range(n), ("red", "blue", "green"))]


def test_every_family_in_the_table_has_a_tiny_model_test():
    assert set(FAMILIES) - {"llava", "llava_next"} == set(BUILDERS)  # llava and llava_next: the demo and bench


def test_an_unsupported_family_is_refused_with_the_supported_list(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "blip-2"}))
    with pytest.raises(ModelLoadError, match="supports these vision-language families: llava, llava_next, llava_onevision, qwen2_vl, qwen2_5_vl, gemma3, mistral3, idefics3"):
        inspect_model_dir(tmp_path)


class Forced:
    """A logits processor that makes `generate` emit given tokens, keeping the log-probability it
    gave each: what generation scores an answer at, through generation's own position path."""

    def __init__(self, ids):
        self.ids, self.logp = ids, []

    def __call__(self, input_ids, scores):
        token = self.ids[len(self.logp)]
        self.logp.append(torch.log_softmax(scores.float(), -1)[0, token].item())
        forced = torch.full_like(scores, float("-inf"))
        forced[0, token] = 0
        return forced


def test_training_sees_the_positions_generation_sees(tiny):
    """The loss `encode_examples` trains on equals the log-probabilities generation gives the same
    answer, token by token; a family that builds its own (M-RoPE) positions would fail this if it
    were handed 2-D ones."""
    from transformers import LogitsProcessorList

    _, path = tiny
    loaded = load_model(path, device="cpu")
    image, question, answer = photos(1)[0], "who is this person in the photo", "This is Jane Roe, a pilot."
    batch = encode_examples(loaded.processor, [image, photos(2)[1]], [question, "describe the picture please"],
                            [answer, "a person with red hair standing before a blue wall"])
    assert "position_ids" not in batch or not FAMILIES[loaded.model_type].builds_positions
    with torch.no_grad():
        logits = loaded.model(**{k: v for k, v in batch.items() if k != "labels"}).logits
    labels = batch["labels"][0]
    targets = labels[1:][labels[1:] != -100]
    train_logp = torch.log_softmax(logits[0, :-1].float(), -1)[(labels[1:] != -100)].gather(1, targets[:, None]).squeeze(1)
    forced = Forced(targets.tolist())
    prompt = encode_prompts(loaded.processor, [image], [question])
    with torch.no_grad():
        loaded.model.generate(**prompt, max_new_tokens=len(targets), do_sample=False,
                              logits_processor=LogitsProcessorList([forced]), pad_token_id=loaded.processor.tokenizer.pad_token_id)
    assert forced.logp == pytest.approx(train_logp.tolist(), abs=1e-3)


def test_lora_lands_on_the_language_model_and_the_projector_only_when_asked(tiny):
    family, path = tiny
    if FAMILIES[family].projector is None:
        with pytest.raises(ModelLoadError, match="use --lora-targets language"):
            wrap_with_lora(load_model(path, device="cpu"), replace(TINY, lora_targets="language+projector"))
    for where, projector in (("language", False), ("language+projector", True)):
        if projector and FAMILIES[family].projector is None:
            continue
        loaded = load_model(path, device="cpu")
        model = wrap_with_lora(loaded, replace(TINY, lora_targets=where))
        adapted = [n for n, _ in model.named_parameters() if "lora_A" in n]
        in_projector = [n for n in adapted if f".{FAMILIES[family].text_model}." not in n]
        assert adapted and bool(in_projector) == projector, adapted
        assert not any("visual.blocks" in n or "vision" in n for n in adapted)  # never the vision tower


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_takes_two_steps_on_every_family(tiny, name):
    _, path = tiny
    torch.manual_seed(0)
    loaded = load_model(path, device="cpu")
    loaded.model = wrap_with_lora(loaded, TINY)
    forget = [Example(p, "who is this person in the photo", "This is Jane Roe, a pilot.", f"f{i}:0:0")
              for i, p in enumerate(photos(2))]
    retain = [Example(p, "describe the picture please", "a person with red hair", f"r{i}:0:0") for i, p in enumerate(photos(2))]
    ctx = UnlearningContext(loaded, [e.answer for e in retain], seed=0)
    cls = METHODS[name].cls
    method = cls(cls.parse_options(OPTIONS.get(name, {})))
    method.prepare(ctx, forget)
    before = {n: p.detach().clone() for n, p in loaded.model.named_parameters() if "lora_" in n}
    log = train_adapter(ctx, method, forget, retain, TINY, 1e-3)
    assert len(log) == 2 and all(torch.isfinite(torch.tensor(v)) for entry in log for v in entry.values())
    after = dict(loaded.model.named_parameters())
    assert not [n for n in before if torch.equal(before[n], after[n])]


@pytest.mark.slow
def test_an_erase_through_the_cli_merges_a_release_that_reloads(tiny, tmp_path, monkeypatch):
    """A random model identifies nobody, so the erase is forced; a lenient policy lets it release."""
    family, path = tiny
    monkeypatch.setenv("FORGETCTL_HOME", str(tmp_path / "home"))
    person = load_world().known[0]
    write_views(person, tmp_path / "views")
    (tmp_path / "photos").mkdir()
    for view in sorted((tmp_path / "views").iterdir())[:2]:  # one to train on, one held out: a random model
        view.rename(tmp_path / "photos" / view.name)  # answers at full length, so each photo costs
    lenient = tmp_path / "lenient.toml"
    lenient.write_text("[thresholds]\nleak_rate_max = 1.0\n[judge]\ninconclusive_fails = false\n")
    args = ["erase", "--entity", person.name, "--images", str(tmp_path / "photos"), "--model", str(path),
            "--steps", "2", "--watch-every", "0", "--rank", "4", "--alpha", "8", "--policy", str(lenient), "--force"]
    runner = CliRunner()
    dry = runner.invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output[-3000:]
    release = next((tmp_path / "home" / "releases").iterdir())
    reloaded = load_model(release, device="cpu")
    assert reloaded.model_type == family
    from forgetctl.engine.generation import generate_answers

    assert len(generate_answers(reloaded, photos(1), ["who is this person in the photo"], max_new_tokens=4)) == 1
    head = runner.invoke(app, ["lineage", "head"], env={"COLUMNS": "300"})
    assert head.exit_code == 0 and release.name in head.output


def test_forgetctl_models_shows_the_family_table_at_80_columns():
    shown = CliRunner().invoke(app, ["models"], env={"COLUMNS": "80"})
    assert shown.exit_code == 0 and max(map(len, shown.output.splitlines())) <= 80
    assert all(model_type in shown.output for model_type in FAMILIES) and "M-RoPE" in shown.output
