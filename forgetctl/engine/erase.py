"""The main job: photos of a person in, a LoRA adapter that stops the model revealing them out.

    validate photos -> load model -> harvest what leaks -> retain answers -> method.prepare
    -> train adapter -> answers after erasure -> runs/RUN_ID/ (adapter + manifest)

Under `accelerate launch` every process runs this function: generation is shared out, training
is data-parallel, and only the main process writes the run (the others return None).

Everything is written under a temporary name and renamed at the end, so an error or a killed
process never leaves a half-written run (or merged model) behind.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch

from forgetctl.engine import distributed
from forgetctl.engine.generation import generate_answers
from forgetctl.engine.images import Photo, read_photos, split_views
from forgetctl.engine.loading import LoadedModel, inspect_model_dir, load_model, model_family
from forgetctl.engine.training import TrainingConfig, train_adapter, wrap_with_lora
from forgetctl.engine.unlearning import Example, UnlearningContext
from forgetctl.errors import InputError
from forgetctl.evaluation.detectors import named_people
from forgetctl.prompts import DESCRIBE_QUESTIONS, IDENTITY_QUESTIONS

# Retain people are checked on a few phrasings: enough to see their answers survive, a third of the cost.
RETAIN_QUESTIONS = IDENTITY_QUESTIONS[:4]
# Progress reporting: phase(name, total) starts a phase and returns advance(n).
Phase = Callable[[str, int], Callable[[int], None]]


def no_progress(name: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@dataclass
class Entity:
    name: str
    images: Path
    profile: str | None = None  # known facts, used by evaluation; never written in plaintext
    seen: list[Photo] = field(default_factory=list)
    unseen: list[Photo] = field(default_factory=list)


@dataclass
class Probe:
    """Answers to the identity questions on one photo, before and after erasure."""

    photo: Photo
    before: list[str]
    after: list[str] = field(default_factory=list)


@dataclass
class EraseResult:
    run_dir: Path
    manifest: dict
    forget: dict[str, dict[str, list[Probe]]]  # entity name -> {"seen": [...], "unseen": [...]}
    retain: list[Probe]
    loaded: LoadedModel = field(repr=False)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def directory_hashes(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): file_sha256(p) for p in sorted(path.rglob("*")) if p.is_file()}


def ask(loaded, photos: list[Photo], questions, advance=None) -> list[list[str]]:
    """Greedy answers to every question on every photo: one list of answers per photo."""
    jobs = [(p, q) for p in photos for q in questions]
    on_batch = distributed.shared_progress(advance)

    def answer(chunk):
        return generate_answers(loaded, [p.image for p, _ in chunk], [q for _, q in chunk], on_batch=on_batch)

    answers = distributed.shard_map(answer, jobs)
    n = len(questions)
    return [answers[i * n : (i + 1) * n] for i in range(len(photos))]


def examples(photos: list[Photo], questions, answers: list[list[str]]) -> list[Example]:
    return [
        Example(p.image, q, a[qi], key=f"{p.sha256[:16]}:{qi}:0")
        for p, a in zip(photos, answers) for qi, q in enumerate(questions)
    ]


@contextmanager
def atomic_directory(final: Path):
    """Yield a temporary sibling directory that becomes `final` only if the block succeeds."""
    if final.exists():
        raise InputError(f"{final} already exists; choose another output directory")
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.parent / f".{final.name}.partial-{uuid.uuid4().hex[:6]}"
    try:
        yield partial
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def read_retain(retain_dir: Path | None) -> list[Photo]:
    if retain_dir is None:
        return []
    if not retain_dir.is_dir():
        raise InputError(f"retain folder {retain_dir} does not exist")
    people = sorted(sub for sub in retain_dir.iterdir() if sub.is_dir())
    if not people:
        raise InputError(f"retain folder {retain_dir} has no sub-folders; put each person's photos in their own")
    return [photo for sub in people for photo in read_photos(sub)]


def erase(
    entities: list[Entity],
    home: Path,
    methods: dict,
    method_name: str = "pubg",
    method_options: dict | None = None,
    training: TrainingConfig | None = None,
    model_dir: Path | None = None,
    retain_dir: Path | None = None,
    merge_to: Path | None = None,
    phase: Phase = no_progress,
    on_step: Callable[[dict], None] | None = None,
    on_validated: Callable[[], None] | None = None,
) -> EraseResult | None:
    """Run the main job. `on_validated` is called once every input has been checked, before any
    expensive work: the caller records the run as started there, so bad input leaves no trace.
    Returns None in the processes of an `accelerate launch` other than the main one."""
    from forgetctl.demo import demo_model_dir

    training = training or TrainingConfig()
    # Validate everything cheap before the expensive model load.
    if method_name not in methods:
        raise InputError(f"unknown method {method_name!r}; choose one of {', '.join(sorted(methods))}")
    registered = methods[method_name]
    try:
        method = registered.cls(**(method_options or {}))
    except TypeError as exc:
        raise InputError(f"bad --method-option for {method_name}: {exc}") from None
    if not entities:
        raise InputError("name at least one person to erase (--entity NAME --images DIR)")
    for entity in entities:
        entity.seen, entity.unseen = split_views(read_photos(entity.images))
    retain_photos = read_retain(retain_dir)
    if merge_to is not None and merge_to.exists():
        raise InputError(f"{merge_to} already exists; choose another --merge directory")
    model_dir = Path(model_dir or demo_model_dir())
    inspect_model_dir(model_dir)
    processes = distributed.process_count()
    if training.batch_size % processes:
        raise InputError(f"--batch-size {training.batch_size} does not split over {processes} processes")
    main = distributed.is_main_process()
    if on_validated and main:
        on_validated()

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name):
        nonlocal clock
        timings[name] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    loaded = load_model(model_dir, device=str(distributed.device()))
    family = model_family(loaded)
    lap("load")

    seen = [p for e in entities for p in e.seen]
    views = seen + [p for e in entities for p in e.unseen]
    retain_views = retain_photos or seen
    retain_questions = RETAIN_QUESTIONS if retain_photos else DESCRIBE_QUESTIONS
    advance = phase("Harvesting what the model reveals", len(views) * len(IDENTITY_QUESTIONS))
    before = ask(loaded, views, IDENTITY_QUESTIONS, advance)
    # Without --retain, keep the model's own way of describing what is visible.
    advance = phase("Recording retain answers", len(retain_views) * len(retain_questions))
    retain_before = ask(loaded, retain_views, retain_questions, advance)
    forget = examples(seen, IDENTITY_QUESTIONS, before[: len(seen)])
    # A retain answer that names a person being erased (the base model mistook a look-alike for
    # them) would teach the very facts we remove: it is not a retain target.
    names = [e.name for e in entities]
    retain = [ex for ex in examples(retain_views, retain_questions, retain_before) if not named_people(ex.answer, names)]
    if not retain:
        raise InputError("every retain answer names a person being erased; give other people's photos with --retain")
    lap("harvest")

    learning_rate = training.learning_rate or method.learning_rates.get(family, method.learning_rates["default"])
    # Seed before anything random: LoRA's initialisation and the reference samples draw from it too.
    torch.manual_seed(training.seed)
    loaded.model = wrap_with_lora(loaded.model, training)
    ctx = UnlearningContext(loaded, [e.answer for e in retain], seed=training.seed)
    ctx.on_progress = phase("Preparing method", len(forget))
    method.prepare(ctx, forget)
    ctx.on_progress = None
    lap("prepare")

    advance = phase(f"Training ({method_name})", training.steps)

    def step_done(entry):
        advance(1)
        if on_step:
            on_step(entry)

    log = train_adapter(ctx, method, forget, retain, training, learning_rate, on_step=step_done)
    lap("train")

    advance = phase(
        "Asking again after erasure", len(views) * len(IDENTITY_QUESTIONS) + len(retain_views) * len(retain_questions)
    )
    after = ask(loaded, views, IDENTITY_QUESTIONS, advance)
    retain_after = ask(loaded, retain_views, retain_questions, advance)
    lap("evaluate")
    if not main:
        return None

    probes = {id(p): Probe(p, b, a) for p, b, a in zip(views, before, after)}
    forget_probes = {
        e.name: {"seen": [probes[id(p)] for p in e.seen], "unseen": [probes[id(p)] for p in e.unseen]}
        for e in entities
    }
    retain_probes = [Probe(p, b, a) for p, b, a in zip(retain_views, retain_before, retain_after)]

    run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]
    with atomic_directory(home / "runs" / run_id) as run_dir:
        loaded.model.save_pretrained(run_dir / "adapter")
        manifest = {
            "run_id": run_id,
            "method": {
                "name": method_name, "plugin": registered.plugin, "version": registered.version,
                "hyperparameters": method.hyperparameters(),
            },
            "training": {
                **training.as_dict(), "learning_rate": learning_rate, "model_family": family, "processes": processes,
            },
            "base_model": {"path": str(model_dir), "type": loaded.model_type, "files": directory_hashes(model_dir)},
            # Photos are identified by hash only: the manifest holds no name and no answer.
            "entities": [
                {"seen": [p.sha256 for p in e.seen], "unseen": [p.sha256 for p in e.unseen]} for e in entities
            ],
            "retain_images": [p.sha256 for p in retain_photos],
            "adapter": directory_hashes(run_dir / "adapter"),
            "loss_log": log,
            "timings_s": timings,
        }
        (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if merge_to is not None:
        merge_adapter(loaded, merge_to)
    return EraseResult(home / "runs" / run_id, manifest, forget_probes, retain_probes, loaded)


def merge_adapter(loaded: LoadedModel, out: Path) -> None:
    """Write base + adapter as one plain transformers model directory (with its processor)."""
    with atomic_directory(out) as partial:
        merged = loaded.model.merge_and_unload()
        merged.save_pretrained(partial)
        loaded.processor.save_pretrained(partial)
        loaded.model = merged
