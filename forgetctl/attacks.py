"""Attacks on an erasure: the ways people get forgotten knowledge back, each a plugin.

An attack either asks differently (other phrasings, other languages, jailbreak prefixes, text
only, transformed photos) or changes the model first (a few fine-tuning steps on unrelated data,
quantization). Every attack runs twice: on the erased model and on the base model it came from.
An attack under which the base model does not leak either tests nothing, and says so.

Suites name the attacks to run and their options: `quick`, `full`, or a TOML file:

    [[attack]]
    name = "relearn"
    steps = [10]
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from pydantic import Field

from forgetctl.errors import InputError, unknown_name
from forgetctl.methods import Configurable, MethodOptions
from forgetctl.reporting import QUIET, Reporter
from forgetctl.types import Example

if TYPE_CHECKING:
    from forgetctl.engine.loading import LoadedModel


class AttackOptions(MethodOptions):
    """An attack's settings, typed like a method's."""


class PerPhoto(AttackOptions):
    """The setting of attacks that ask questions of each (possibly altered) photo."""

    per_photo: int | None = Field(None, ge=1, description="questions per photo (all when unset)")


@dataclass(frozen=True)
class Target:
    """A person the model should have forgotten: their photos (seen and unseen by the erasure)
    and how their erasure told a leak."""

    request_id: str
    name: str
    photos: dict[str, tuple]  # "seen" / "unseen" -> Photo
    leaks: Callable[[str], bool]  # the name or two private facts
    leaks_facts: Callable[[str], bool]  # two private facts: for questions that say the name themselves
    # Per split: (image, question, true answer, perturbed answers) for the knowledge tests.
    knowledge: dict[str, list[tuple]] = field(default_factory=dict)


@dataclass(frozen=True)
class AttackData:
    """What model-changing attacks may use: examples unrelated to any target (the retain people's
    own answers from the evidence), and a seed."""

    unrelated: tuple[Example, ...] = ()
    seed: int = 0


# (photo or None for a text-only question, question)
Probe = tuple[Image.Image | None, str]


class Attack(Configurable):
    """Base class of attack plugins: a unique `name`, a `label`, typed `Options`, and
    `probes` (what to ask); `attack_model` changes the model first, for attacks that do."""

    label: str = ""
    Options: type[AttackOptions] = AttackOptions
    options_flag = "options for attack"
    says_the_name = False  # its questions name the person, so an answer repeating the name is no leak

    @property
    def changes_model(self) -> bool:
        return type(self).attack_model is not Attack.attack_model

    def variants(self) -> list[str]:
        """Named variants reported apart (relearning after 10 and after 30 steps); one by default."""
        return [""]

    def attack_model(self, loaded: LoadedModel, data: AttackData, variant: str) -> str | None:
        """Change the model in place before asking; return why it could not, or None."""

    def probes(self, target: Target, split: str) -> list[Probe]:
        raise NotImplementedError


@dataclass
class ModelSource:
    """How to get the model under attack, fresh: a directory, with an adapter merged in."""

    model_dir: Path
    adapter_dir: Path | None = None
    _shared: LoadedModel | None = field(default=None, repr=False)

    def fresh(self) -> LoadedModel:
        from forgetctl.engine.loading import load_model

        loaded = load_model(self.model_dir)
        if self.adapter_dir is not None:
            from peft import PeftModel

            loaded.model = PeftModel.from_pretrained(loaded.model, self.adapter_dir).merge_and_unload().eval()
        return loaded

    def shared(self) -> LoadedModel:
        """One copy for the attacks that only ask: they never change it."""
        if self._shared is None:
            self._shared = self.fresh()
        return self._shared


def share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def ask_probes(loaded: LoadedModel, probes: list[Probe], advance=None) -> list[str]:
    """Answers in order: photo questions batched together, text-only ones together."""
    from forgetctl.engine.generation import generate_answers

    with_photo = [(i, p) for i, p in enumerate(probes) if p[0] is not None]
    text_only = [(i, p) for i, p in enumerate(probes) if p[0] is None]
    answers: list[str | None] = [None] * len(probes)
    if with_photo:
        got = generate_answers(loaded, [p[0] for _, p in with_photo], [p[1] for _, p in with_photo], on_batch=advance)
        for (i, _), a in zip(with_photo, got):
            answers[i] = a
    if text_only:
        got = generate_answers(loaded, None, [p[1] for _, p in text_only], on_batch=advance)
        for (i, _), a in zip(text_only, got):
            answers[i] = a
    return answers


def leak_rates(loaded: LoadedModel, attack: Attack, targets: list[Target], advance) -> dict:
    """Per request and split: the share of the attack's answers that leak the person."""
    out = {}
    for target in targets:
        out[target.request_id] = {}
        for split in target.photos:
            probes = attack.probes(target, split)
            if probes:
                answers = ask_probes(loaded, probes, advance)
                leaks = target.leaks_facts if attack.says_the_name else target.leaks
                out[target.request_id][split] = share([leaks(a) for a in answers])
    return out


def knowledge_after(loaded: LoadedModel, targets: list[Target]) -> dict:
    """Per request and split: the knowledge tests on the model as an attack left it."""
    from forgetctl.engine.likelihood import knowledge_of

    return {t.request_id: {split: knowledge_of(loaded, loaded.model, items) for split, items in t.knowledge.items()}
            for t in targets}


def worst(rates: dict) -> float | None:
    values = [v for per_request in rates.values() for v in per_request.values() if v is not None]
    return max(values) if values else None


def attack_once(attack: Attack, variant: str, source: ModelSource, targets: list[Target], data: AttackData,
                advance=None) -> dict:
    """One attack variant on one model: the leak rates per request and split (`leaks`), and after
    an attack that changes the weights the knowledge tests (`knowledge`); or why it could not run."""
    loaded = source.fresh() if attack.changes_model else source.shared()
    problem = attack.attack_model(loaded, data, variant) if attack.changes_model else None
    if problem:
        return {"not_run": problem}
    out = {"leaks": leak_rates(loaded, attack, targets, advance)}
    if attack.changes_model:
        out["knowledge"] = knowledge_after(loaded, targets)
    return out


def run_attacks(attacks: list[Attack], targets: list[Target], erased: ModelSource, base: ModelSource,
                data: AttackData, report: Reporter = QUIET) -> dict:
    """Every attack (and variant) on the erased model and on the base, leak rates side by side;
    after an attack that changes the weights, the knowledge tests too (what it brought back into
    the weights, not only into the answers)."""
    results = {}
    for attack in attacks:
        for variant in attack.variants():
            key = f"{attack.name}{'@' + variant if variant else ''}"
            row = {"label": attack.label + (f" ({variant})" if variant else ""), "erased": {}, "base": {}}
            for which, source in (("erased", erased), ("base", base)):
                total = sum(len(attack.probes(t, s)) for t in targets for s in t.photos)
                done = attack_once(attack, variant, source, targets, data, report.phase(f"Attack {key} on the {which} model", total))
                if "not_run" in done:
                    row["not_run"] = done["not_run"]
                    break
                row[which] = done["leaks"]
                if "knowledge" in done:
                    row.setdefault("knowledge", {})[which] = done["knowledge"]
            row["leak"], row["base_leak"] = worst(row["erased"]), worst(row["base"])
            # An attack under which the base does not leak cannot show that the erasure holds.
            row["tests_nothing"] = "not_run" not in row and not row["base_leak"]
            results[key] = row
    return results


# --- suites -----------------------------------------------------------------------------------

SUITES = {
    # Under 2 minutes on the demo model on 2 CPU cores.
    "quick": [
        {"name": "phrasings", "per_photo": 4}, {"name": "jailbreak", "per_photo": 2}, {"name": "text-only"},
        {"name": "transforms", "per_photo": 2}, {"name": "relearn", "steps": [10]}, {"name": "quantize"},
    ],
    "full": [
        {"name": "phrasings"}, {"name": "languages"}, {"name": "jailbreak"}, {"name": "text-only"},
        {"name": "transforms"}, {"name": "relearn", "steps": [10, 30]}, {"name": "quantize"},
    ],
}


def load_suite(name_or_file: str, registered: dict) -> tuple[str, list[Attack]]:
    """The attacks of a named suite or a TOML file, each configured and validated."""
    path = Path(name_or_file)
    if name_or_file in SUITES:
        entries, name = SUITES[name_or_file], name_or_file
    elif path.suffix == ".toml":
        try:
            entries = tomllib.loads(path.read_text()).get("attack", [])
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"attack suite {path}: {exc}") from None
        name = path.stem
    else:
        raise unknown_name("attack suite", name_or_file, [*SUITES, "a .toml file"])
    attacks = []
    for entry in entries:
        options = dict(entry)
        attack_name = options.pop("name", None)
        if attack_name not in registered:
            raise unknown_name("attack", str(attack_name), registered, where=f"attack suite {name}: ")
        cls = registered[attack_name].cls
        attacks.append(cls(cls.parse_options(options)))
    if not attacks:
        raise InputError(f"attack suite {name} names no attack")
    return name, attacks
