"""The main job as named stages: photos of people in, a LoRA adapter that stops the model
revealing them out.

    load -> harvest what leaks -> prepare the method -> train the adapter -> probe after -> write run

Each stage is a function with one job, so the benchmarks, lineage and attack code call the ones
they need; `erase` runs them in order. Under `accelerate launch` every process runs the stages
(generation is shared out, training is data-parallel) and only the main process writes the run.
Everything is written under a temporary name and renamed at the end, so an error or a killed
process never leaves a half-written run behind (nor a release: engine/release.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from forgetctl.engine import distributed, sharding
from forgetctl.engine.generation import ask
from forgetctl.engine.identify import NOISE_PHOTOS, identify
from forgetctl.engine.images import Photo
from forgetctl.engine.likelihood import measure_knowledge
from forgetctl.engine.loading import LoadedModel, default_dtype, load_model, model_family
from forgetctl.engine.regression import heard_now, names_a_person, probe_bystanders, probe_earlier
from forgetctl.engine.release import atomic_directory
from forgetctl.engine.training import train_adapter, wrap_with_lora
from forgetctl.engine.unlearning import UnlearningContext
from forgetctl.engine.watch import watcher
from forgetctl.errors import InputError
from forgetctl.fingerprint import directory_hashes
from forgetctl.methods import UnlearningMethod
from forgetctl.prompts import DESCRIBE_QUESTIONS, IDENTITY_QUESTIONS, RETAIN_QUESTIONS, with_in_context_prompt
from forgetctl.reporting import QUIET, Reporter, Stopwatch
from forgetctl.types import EraseResult, EraseSpec, Example, Harvest, Person, Probe

# Asked under PUBG's in-context prompt, the base model says what is visible in a photo and nothing
# private: each photo's visual reference, against which every verdict is graded.
REFERENCE_PROMPT = with_in_context_prompt(DESCRIBE_QUESTIONS[0])


@dataclass
class Trainer:
    ctx: UnlearningContext
    method: UnlearningMethod
    learning_rate: float


def examples(photos: list[Photo], questions, answers: list[list[str]]) -> list[Example]:
    return [
        Example(p.image, q, a[qi], key=f"{p.sha256[:16]}:{qi}:0")
        for p, a in zip(photos, answers) for qi, q in enumerate(questions)
    ]


# --- the stages ---------------------------------------------------------------------------


def load_for_run(path: Path, spec: EraseSpec) -> LoadedModel:
    """The model on this process's device. Sharded (FSDP2): loaded on CPU in the device's dtype,
    wrapped in its LoRA (still zero: it changes no answer) and sharded onto the device."""
    device = distributed.device()
    if not sharding.requested():
        return load_model(path, device=str(device))
    loaded = load_model(path, dtype=default_dtype(device), device="cpu")
    torch.manual_seed(spec.training.seed)  # LoRA's initialisation
    loaded.model = sharding.shard(wrap_with_lora(loaded, spec.training), device)
    return replace(loaded, device=device)


def describe_visible(loaded: LoadedModel, photos: list[Photo], advance=None) -> list[str]:
    """The base model's in-context description of each photo: its visual reference."""
    return [answers[0] for answers in ask(loaded, photos, [REFERENCE_PROMPT], advance)]


def harvest(loaded: LoadedModel, spec: EraseSpec, report: Reporter = QUIET) -> Harvest:
    """Ask the base model who each person is (the leaks), what each photo shows (the visual
    references), and record the answers to keep."""
    seen = [p for person in spec.people for p in person.seen]
    views = seen + [p for person in spec.people for p in person.unseen]
    before = ask(loaded, views, IDENTITY_QUESTIONS, report.phase("Harvesting what the model reveals", len(views) * len(IDENTITY_QUESTIONS)))
    photos = views + list(spec.retain)
    described = describe_visible(loaded, photos, report.phase("Describing what is visible", len(photos)))
    references, retain_references = described[: len(views)], described[len(views) :]
    names = [person.name for person in spec.people]
    if spec.retain:
        retain_views, retain_questions = list(spec.retain), RETAIN_QUESTIONS
        advance = report.phase("Recording retain answers", len(retain_views) * len(retain_questions))
        retain_before = ask(loaded, retain_views, retain_questions, advance)
        mistaken = sum(any(names_a_person(a, names) for a in answers) for answers in retain_before)
        if mistaken:
            # A look-alike answered as the erased person would teach the very facts we remove.
            report.notice(
                f"warning: the base model answers {mistaken} retain photo(s) as a person being erased "
                "(look-alikes?); those answers are not used as retain targets"
            )
    else:
        # Without other people's photos, the model is taught to keep describing these photos the
        # way its own in-context description does: never the person's name or facts.
        retain_views, retain_questions, retain_references = seen, DESCRIBE_QUESTIONS, references[: len(seen)]
        retain_before = [[reference] * len(DESCRIBE_QUESTIONS) for reference in retain_references]
        report.notice(
            "No --retain folder: the retain targets are the model's own descriptions of these photos. "
            "Photos of real other people (--retain, one sub-folder each) are what protect look-alikes."
        )
    retain = [ex for ex in examples(retain_views, retain_questions, retain_before) if not names_a_person(ex.answer, names)]
    if not retain:
        raise InputError(
            "every retain answer names a person being erased; give other people's photos with --retain"
            if spec.retain else "the base model names the person even when asked only what is visible; give other people's photos with --retain"
        )
    forget = examples(seen, IDENTITY_QUESTIONS, before[: len(seen)])
    held = []
    if spec.keep_earlier:  # earlier people's leaks stay in the forget data, as the base revealed them
        forget += [ex for e in spec.earlier for ex in examples(list(e.photos["seen"]), IDENTITY_QUESTIONS, list(e.before["seen"]))]
    else:  # or their erased answers are held, at a fixed cost per step however many they are
        held = [ex for e in spec.earlier for ex in examples([p for p, _ in e.held], IDENTITY_QUESTIONS, [a for _, a in e.held])
                if not names_a_person(ex.answer, names)]
    return Harvest(
        views, before, references, retain_views, retain_questions, retain_before, retain_references, forget, retain,
        retain_are_others=bool(spec.retain), held=held,
    )


def prepare(reference: LoadedModel, spec: EraseSpec, harvested: Harvest, report: Reporter = QUIET) -> UnlearningMethod:
    """Let the method compute what it needs from the reference model before training (PUBG's o*
    samples, NPO's reference log-probs): the plain base, or the original base of a lineage, so a
    release that earlier erasures may have damaged never becomes anyone's reference."""
    method = spec.method.cls(spec.method_options)
    # Seed before anything random: reference samples, LoRA's initialisation and training draw from it.
    torch.manual_seed(spec.training.seed)
    ctx = UnlearningContext(reference, [e.answer for e in harvested.retain], seed=spec.training.seed)
    total = len(harvested.forget)
    advance = report.phase("Preparing method", total)
    done = 0

    def progress(n):
        nonlocal done
        done += n
        advance(n)

    ctx.on_progress = progress
    method.prepare(ctx, harvested.forget)
    advance(max(total - done, 0))  # methods with nothing to prepare finish the bar at once
    return method


def attach_adapter(loaded: LoadedModel, spec: EraseSpec, harvested: Harvest, method: UnlearningMethod) -> Trainer:
    """Wrap the model to train in LoRA, with the learning rate for its family."""
    rates = method.learning_rates
    learning_rate = spec.training.learning_rate or rates.get(model_family(loaded), rates["default"])
    if not sharding.is_sharded(loaded.model):  # a sharded model got its LoRA when it loaded
        loaded.model = wrap_with_lora(loaded, spec.training)
    return Trainer(UnlearningContext(loaded, [e.answer for e in harvested.retain], seed=spec.training.seed), method, learning_rate)


def train(trainer: Trainer, spec: EraseSpec, harvested: Harvest, report: Reporter = QUIET) -> list[dict]:
    training = spec.training
    advance = report.phase(f"Training ({trainer.method.name})", training.steps)

    def step_done(entry):  # the step's line first: the last advance closes the phase
        report.step(entry)
        advance(1)

    watch = watcher(trainer.ctx.loaded, spec, harvested) if training.watch_every else None
    log = train_adapter(
        trainer.ctx, trainer.method, harvested.forget, harvested.retain, training, trainer.learning_rate, step_done, watch,
        held=harvested.held,
    )
    kept = next((e["step"] for e in log if e.get("kept")), None)
    if kept is not None and kept != log[-1]["step"]:
        report.notice(f"kept the adapter of step {kept + 1} of {training.steps}: the best the training photos showed")
    return log


def probe_after(loaded: LoadedModel, spec: EraseSpec, harvested: Harvest, report: Reporter = QUIET):
    """Ask again after erasure: per person, seen and unseen probes; and the retain probes."""
    h = harvested
    total = len(h.views) * len(IDENTITY_QUESTIONS) + len(h.retain_views) * len(h.retain_questions)
    advance = report.phase("Asking again after erasure", total)
    after = ask(loaded, h.views, IDENTITY_QUESTIONS, advance)
    retain_after = ask(loaded, h.retain_views, h.retain_questions, advance)
    probes = {id(p): Probe(p, b, a, r) for p, b, a, r in zip(h.views, h.before, after, h.references)}
    forget = {
        person.name: {"seen": [probes[id(p)] for p in person.seen], "unseen": [probes[id(p)] for p in person.unseen]}
        for person in spec.people
    }
    retain = [Probe(p, b, a, r) for p, b, a, r in zip(h.retain_views, h.retain_before, retain_after, h.retain_references)]
    return forget, retain


def start_leaks(loaded: LoadedModel, spec: EraseSpec, harvested: Harvest) -> float:
    """How often the starting release still names the people, on their seen photos, before any
    training: a release an earlier erasure damaged may already hide someone."""
    seen = [p for person in spec.people for p in person.seen]
    answers = [a for per_photo in ask(loaded, seen, RETAIN_QUESTIONS) for a in per_photo]
    names = [person.name for person in spec.people]
    return sum(names_a_person(a, names) for a in answers) / max(len(answers), 1)


def build_manifest(run_id: str, spec: EraseSpec, loaded: LoadedModel, trainer: Trainer, losses: list[dict], timings: dict) -> dict:
    """What was run, by which code, on which files: hashes and hyperparameters, no personal data."""
    return {
        "run": run_id,  # named as in every record
        "method": {
            "name": spec.method.name, "plugin": spec.method.plugin, "version": spec.method.version,
            "hyperparameters": trainer.method.hyperparameters(),
        },
        "training": {
            **spec.training.as_dict(), "learning_rate": trainer.learning_rate, "model_family": model_family(loaded),
            "processes": distributed.process_count(), "sharded": sharding.requested(),
            # The step whose adapter was kept (the best watched one; None: the last, unwatched).
            "kept_step": next((e["step"] for e in losses if e.get("kept")), None),
        },
        "base_model": {"path": str(spec.model_dir), "type": loaded.model_type, "files": spec.model_files or directory_hashes(spec.model_dir)},
        # Photos are identified by keyed hash only: the manifest holds no name and no answer.
        "entities": [
            {"seen": [spec.photo_id(p.sha256) for p in person.seen], "unseen": [spec.photo_id(p.sha256) for p in person.unseen]}
            for person in spec.people
        ],
        "retain_images": [spec.photo_id(p.sha256) for p in spec.retain],
        "lineage": {
            "reference": str(spec.reference_dir) if spec.reference_dir else None,
            "earlier": [e.label for e in spec.earlier], "keep_earlier": spec.keep_earlier,
            "canaries": [b.label for b in spec.bystanders], "deferred": list(spec.deferred),
            "reprobe_every": spec.reprobe_every,
            # Seen photos of earlier people whose erased answers this release was trained to keep.
            "held_photos": 0 if spec.keep_earlier else sum(len(e.held) for e in spec.earlier),
        },
        "loss_log": losses,
        "timings_s": timings,
    }


def write_run(run_dir: Path, loaded: LoadedModel, manifest: dict, adapter: dict | None = None) -> dict:
    """runs/RUN_ID/: the adapter and the manifest (with the adapter's hashes), written atomically.
    `adapter`: its weights as whole tensors, when the model holds only its shards."""
    with atomic_directory(run_dir) as partial:
        loaded.model.save_pretrained(partial / "adapter", state_dict=adapter)
        manifest = {**manifest, "adapter": directory_hashes(partial / "adapter")}
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def erase(spec: EraseSpec, home: Path, run_id: str, report: Reporter = QUIET) -> EraseResult | None:
    """Run the stages. Returns None in the processes of an `accelerate launch` other than the main one."""
    clock = Stopwatch()
    with clock.lap("load"):  # the reference: the model itself, or the original base of its lineage
        reference = load_for_run(spec.reference_dir or spec.model_dir, spec)
    with clock.lap("harvest"):
        harvested = harvest(reference, spec, report)
    with clock.lap("identify"):
        identified = identify(reference, spec, harvested, report.phase("Checking whom the model identifies", NOISE_PHOTOS * len(IDENTITY_QUESTIONS)))
    unknown = set() if spec.force else {name for name, found in identified.items() if not found.identifiable}
    left_out = {person.name: before_probes(person, harvested) for person in spec.people if person.name in unknown}
    if len(unknown) == len(spec.people):
        return EraseResult(None, None, {}, [], reference, harvested.retain_are_others, identified=identified, not_identifiable=left_out)
    if unknown:
        report.notice(f"not identified by the base model, so left out of this erasure: {', '.join(sorted(unknown))}")
        spec, harvested = without_people(spec, harvested, unknown)
    with clock.lap("prepare"):
        method = prepare(reference, spec, harvested, report)
    if spec.reference_dir is None:
        loaded, start_named = reference, None
    else:
        del reference  # one model in memory at a time
        with clock.lap("load release"):
            loaded = load_for_run(spec.model_dir, spec)
            start_named = start_leaks(loaded, spec, harvested)
        if start_named == 0:
            report.notice("the starting release no longer names the people to erase (the base did); "
                          "unlearning what the original base revealed")
    trainer = attach_adapter(loaded, spec, harvested, method)
    with clock.lap("train"):
        losses = train(trainer, spec, harvested, report)
    with clock.lap("evaluate"):
        forget, retain = probe_after(loaded, spec, harvested, report)
        earlier = probe_earlier(loaded, spec, report, heard_now(retain, harvested.retain_questions))
        bystanders = probe_bystanders(loaded, spec, report)
    with clock.lap("knowledge"):
        known = measure_knowledge(loaded, spec, harvested, report.phase("Testing what the weights still know", 2 * len(spec.people)))
    adapter = sharding.full_adapter(loaded.model)  # sharded: gathered by every process, saved by one
    if not distributed.is_main_process():
        return None
    manifest = write_run(home / "runs" / run_id, loaded, build_manifest(run_id, spec, loaded, trainer, losses, clock.laps),
                         adapter)
    return EraseResult(home / "runs" / run_id, manifest, forget, retain, loaded, harvested.retain_are_others, earlier,
                       bystanders, start_named, identified, left_out, known)


def before_probes(person: Person, harvested: Harvest) -> dict[str, list[Probe]]:
    """A person's photos with the base model's answers and descriptions, split as trained on or held out."""
    said = harvested.said()
    return {split: [Probe(p, said[id(p)][0], [], said[id(p)][1]) for p in photos]
            for split, photos in (("seen", person.seen), ("unseen", person.unseen))}


def without_people(spec: EraseSpec, harvested: Harvest, names: set[str]) -> tuple[EraseSpec, Harvest]:
    """The request and its harvest without these people: nothing of theirs is trained on or probed."""
    gone = [p for person in spec.people if person.name in names for p in person.views]
    ids, keys = {id(p) for p in gone}, {p.sha256[:16] for p in gone}
    kept = [i for i, p in enumerate(harvested.views) if id(p) not in ids]
    # Without --retain the retain photos are the people's own, described: theirs go too.
    retained = [i for i, p in enumerate(harvested.retain_views) if id(p) not in ids]
    narrowed = replace(
        harvested, views=[harvested.views[i] for i in kept], before=[harvested.before[i] for i in kept],
        references=[harvested.references[i] for i in kept],
        retain_views=[harvested.retain_views[i] for i in retained],
        retain_before=[harvested.retain_before[i] for i in retained],
        retain_references=[harvested.retain_references[i] for i in retained],
        forget=[e for e in harvested.forget if e.key.split(":")[0] not in keys],
        retain=[e for e in harvested.retain if e.key.split(":")[0] not in keys],
    )
    return replace(spec, people=tuple(p for p in spec.people if p.name not in names)), narrowed
