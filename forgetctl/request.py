"""One erasure request, validated once, before any side effect.

`RequestForm` is what a user filled in (command-line options, a requests file, the demo);
`validate` turns it into a frozen `EraseRequest` or raises one InputError that says what to fix.
Nothing is loaded, trained, written or recorded before it returns, so bad input leaves no trace
under FORGETCTL_HOME.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tomllib
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from forgetctl.engine import distributed, sharding
from forgetctl.engine.families import FAMILIES, inspect_model_dir, lora_target
from forgetctl.engine.images import read_photos, retain_folders, split_views, survey
from forgetctl.errors import InputError, unknown_name
from forgetctl.evaluation.evaluate import Distractors, Grading, read_distractors
from forgetctl.host.manager import PluginHost, create_host
from forgetctl.lineage import Lineage, Start, plan_start, reprobe_choice
from forgetctl.policy import Policy, load_policy
from forgetctl.trail import GROUNDS, check_same_person
from forgetctl.types import EraseSpec, Person, TrainingConfig

# A model directory may name its own grading defaults (CLIP checkpoint, distractor corpus).
MODEL_DEFAULTS_FILE = "forgetctl.toml"


@dataclass(frozen=True)
class PersonForm:
    name: str
    images: Path
    profile: str | None = None


@dataclass
class RequestForm:
    """What the user asked for, unchecked. `model` None means the demo model."""

    people: list[PersonForm]
    model: Path | None = None
    method: str = "pubg"
    method_options: dict = field(default_factory=dict)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    retain: Path | None = None
    merge: Path | None = None
    judge: str = "grounded"
    judge_options: dict = field(default_factory=dict)
    policy: str = "default"
    distractors: Path | None = None
    clip_model: str | None = None
    clip_pretrained: Path | None = None
    grounds: str = "a"
    received: dt.date | None = None
    requester_ref: str | None = None
    request_id: str | None = None
    fork: bool = False  # start from a version that lacks a later erasure, on purpose
    new_lineage: str | None = None  # why a model no lineage knows starts a new one (recorded)
    keep_earlier: bool = False  # train on earlier people's leaks again (else hold their erased answers)
    reprobe_every: int = 1  # re-probe each earlier person at least every K releases (1: all, every release)
    release: bool = True  # a passing erasure becomes a deployable version
    force: bool = False  # erase even people the base model does not identify (recorded)


@dataclass(frozen=True)
class LineagePlan:
    """Where the run starts in the model lineage and what it must keep erased."""

    start: Start = field(default_factory=lambda: Start(None, None))  # (a default for tests that build plans)
    earlier: tuple = ()  # forgetctl.engine.erase.Earlier, from the evidence
    detectors: dict = field(default_factory=dict)  # earlier request id -> LeakDetector
    unverifiable: dict = field(default_factory=dict)  # earlier request id -> why it cannot be re-probed
    bystanders: tuple = ()  # forgetctl.types.Bystander: the lineage's canaries, from the log
    deferred: tuple = ()  # earlier request ids this release does not re-probe (--reprobe-every)


@dataclass(frozen=True)
class RecordOptions:
    """How the request is entered in the audit log."""

    grounds: str = "a"
    received: dt.date | None = None
    requester_ref: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class EraseRequest:
    spec: EraseSpec
    grading: Grading
    policy: Policy
    record: RecordOptions
    merge_to: Path | None = None  # where the release goes (None: FORGETCTL_HOME/releases/RUN_ID)
    lineage: LineagePlan = field(default_factory=LineagePlan)
    release: bool = True
    notes: tuple[str, ...] = ()  # what validation changed, said before the run and in the dry run


def read_retain(retain_dir: Path | None, erased) -> tuple:
    """Other people's photos, one sub-folder each; none of them a photo of someone being erased."""
    photos = tuple(photo for sub in retain_folders(retain_dir) for photo in read_photos(sub))
    erased_photos = {p.sha256 for person in erased for p in person.views}
    both = [p.path.name for p in photos if p.sha256 in erased_photos]
    if both:
        raise InputError(f"{', '.join(both)} in --retain is also a photo of a person being erased; take it out of the retain folder")
    return photos


def model_defaults(model_dir: Path) -> dict:
    """The [grading] table of the model directory's forgetctl.toml, paths resolved; {} if none."""
    path = model_dir / MODEL_DEFAULTS_FILE
    if not path.is_file():
        return {}
    try:
        grading = tomllib.loads(path.read_text()).get("grading", {})
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML ({exc})") from None
    return {key: (model_dir / value).resolve() for key, value in grading.items()}


MAX_NAME = 200  # characters: longer than any person's name, short enough to print and hash at once


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InputError("--entity is empty; give the person's name as the model would say it")
    if len(name) > MAX_NAME:
        raise InputError(f"a name of {len(name):,} characters; a person's name is at most {MAX_NAME}")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise InputError("a name holds control characters; give it as plain text")
    return name


def check_names(forms: list[PersonForm]) -> list[str]:
    from forgetctl_audit.store import normalised_name

    if not forms:
        raise InputError("name at least one person to erase (--entity NAME --images DIR)")
    names = [check_name(form.name) for form in forms]
    # The audit log tells people apart by this form of the name (case, width and spacing folded).
    if len({normalised_name(n) for n in names}) != len(names):
        raise InputError("the same person is named twice (names that differ only in case or spacing); give each person once")
    return names


def read_people(forms: list[PersonForm], names: list[str]) -> tuple[Person, ...]:
    people = []
    for name, form in zip(names, forms):
        seen, unseen = split_views(read_photos(form.images))
        people.append(Person(name, tuple(seen), tuple(unseen), form.profile))
    return tuple(people)


def validate_grading(form: RequestForm, model_dir: Path, host: PluginHost) -> Grading:
    from forgetctl.evaluation.clipscore import ClipChoice

    judges = host.judges()
    if form.judge not in judges:
        raise unknown_name("judge", form.judge, judges)
    cls = judges[form.judge].cls
    judge = cls(cls.parse_options(form.judge_options))
    defaults = model_defaults(model_dir)
    distractors_file = form.distractors or defaults.get("distractors")
    distractors = read_distractors(distractors_file) if distractors_file else Distractors((), ())
    clip = None
    if not distributed.is_main_process():
        pass  # only the main process evaluates
    elif form.clip_model:
        clip = ClipChoice(form.clip_model, form.clip_pretrained)
    elif "clip_model" in defaults:
        clip = ClipChoice(defaults["clip_model"], defaults.get("clip_pretrained"))
    return Grading(judge, clip, distractors)


@contextmanager
def trail_to_read(home: Path | None):
    """The audit log, opened once and read-only for all of validation (which writes nothing);
    None where there is none yet."""
    if home is None or not (home / "audit.db").is_file():
        yield None
        return
    from forgetctl_audit.store import AuditLog

    with AuditLog(home, readonly=True) as log:
        yield log


def validate_request_id(form: RequestForm, log, home: Path | None) -> None:
    """`--request-id` attaches the run to a request that exists, is this person's, and was not
    shredded (a shred is final: no new evidence, no new data key)."""
    from forgetctl_audit.report_statements import CLOSED
    from forgetctl_audit.store import REQUEST_ID

    request_id = form.request_id
    if not REQUEST_ID.fullmatch(request_id):
        raise InputError(f"--request-id {request_id!r}: use 1-64 letters, digits, '.', '_' or '-'")
    if len(form.people) != 1:
        raise InputError("--request-id attaches one person's run to their request; erase one person at a time")
    if log is None:
        raise InputError(f"no request {request_id}: there is no audit log in {home}; leave out --request-id to open one")
    request = next((r for r in log.records(request_id) if r["kind"] == "request"), None)
    if request is None:
        raise InputError(f"no request {request_id} in the audit log; leave out --request-id to open a new request")
    if log.is_shredded(request_id):
        raise InputError(f"request {request_id} was shredded, and a shred is final; open a new request instead")
    if any(r["kind"] == CLOSED for r in log.records(request_id)):
        raise InputError(f"request {request_id} was closed without erasure (`forgetctl audit show {request_id}`); "
                         "leave out --request-id to open a new request")
    check_same_person(log, request, form.people[0].name)


def folder_bytes(path: Path, patterns=("*.safetensors", "*.bin")) -> int:
    return sum(f.stat().st_size for pattern in patterns for f in path.glob(pattern))


def adapter_bytes(model_dir: Path, training: TrainingConfig) -> int:
    """LoRA on every linear layer of the language model: r x (in + out) per layer, 4 bytes each
    (an upper bound: on GPUs the adapter is saved in bf16)."""
    text = json.loads((model_dir / "config.json").read_text()).get("text_config", {})
    h, inner, layers = text.get("hidden_size", 4096), text.get("intermediate_size", 14336), text.get("num_hidden_layers", 32)
    heads = text.get("num_attention_heads", 32)
    head_dim = text.get("head_dim") or h // heads
    kv = text.get("num_key_value_heads") or heads
    per_layer = (h + heads * head_dim) * 2 + 2 * (h + kv * head_dim) + 2 * (h + inner) + (inner + h)
    return per_layer * layers * training.lora_rank * 4


def writable_with_room(target: Path, need: int, what: str, fix: str) -> None:
    """`target` (or the nearest folder above it that exists) is writable and has `need` bytes free."""
    existing = target
    while not existing.exists():
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{what} {target} is not writable ({existing} is read-only or not yours); {fix}")
    free = shutil.disk_usage(existing).free
    if free < need:
        raise InputError(f"{what} {target} has {free / 2**20:,.0f} MiB free; this run needs about {need / 2**20:,.0f} MiB; {fix}")


def preflight_storage(home: Path, spec: EraseSpec, merge_to: Path | None, release: bool) -> None:
    """Room for the run (and the release) where they will be written, before any work."""
    need = adapter_bytes(spec.model_dir, spec.training) + 64 * 2**20  # adapter, manifest, audit records
    if release and merge_to is None:
        need += folder_bytes(spec.model_dir)  # the release goes under FORGETCTL_HOME/releases/
    writable_with_room(home, need, "FORGETCTL_HOME", "free space or set FORGETCTL_HOME to another folder")
    if (home / "audit.db").exists() and not os.access(home / "audit.db", os.W_OK):
        raise InputError(f"the audit trail {home / 'audit.db'} is read-only; this run could not be recorded")
    if release and merge_to is not None:
        writable_with_room(merge_to.parent, folder_bytes(spec.model_dir), "--merge", "free space or choose another folder")


def validate(form: RequestForm, default_model: Path, host: PluginHost | None = None, home: Path | None = None) -> EraseRequest:
    """Check everything cheap, in the order a user would fix it; raise InputError on the first
    problem. `default_model` is used when the form names none; `home` holds the audit log that
    a named request id must already be in."""
    with trail_to_read(home) as log:
        return validate_with(form, default_model, host or create_host(), home, log)


def validate_with(form: RequestForm, default_model: Path, host: PluginHost, home: Path | None, log) -> EraseRequest:
    """`validate`, with the audit log (or None) read once."""
    methods = host.methods()
    if form.method not in methods:
        raise unknown_name("method", form.method, methods)
    method = methods[form.method]
    options = method.cls.parse_options(form.method_options)
    if form.grounds not in GROUNDS:
        raise InputError(f"--grounds must be one of {', '.join(GROUNDS)} (GDPR Art. 17(1)(a)-(f)), not {form.grounds!r}")
    policy = load_policy(form.policy)
    if form.request_id is not None:
        validate_request_id(form, log, home)
    names = check_names(form.people)
    survey([p.images for p in form.people] + retain_folders(form.retain))
    people = read_people(form.people, names)
    retain = read_retain(form.retain, people)
    if form.merge is not None and form.merge.exists():
        raise InputError(f"{form.merge} already exists; choose another --merge directory")
    model_dir = Path(form.model or default_model).expanduser().resolve()
    model_type = inspect_model_dir(model_dir)
    lora_target(FAMILIES[model_type], form.training.lora_targets)  # a family without a projector LoRA can train
    processes = distributed.process_count()
    if form.training.batch_size % processes:
        raise InputError(f"--batch-size {form.training.batch_size} does not split over {processes} processes")
    if problem := sharding.launch_problem():
        raise InputError(problem)
    lineage = plan_lineage(form, model_dir, log, people)
    # Grading defaults (CLIP, distractors) belong to the original base, not to a merged release.
    grading = validate_grading(form, lineage.start.root_dir or model_dir, host)
    training, notes = covering(form.training, people, lineage.earlier if form.keep_earlier else ())
    spec = EraseSpec(
        people, model_dir, method, options, training, retain, reference_dir=lineage.start.root_dir,
        model_files=lineage.start.files,
        earlier=lineage.earlier, keep_earlier=form.keep_earlier, bystanders=lineage.bystanders,
        deferred=lineage.deferred, reprobe_every=form.reprobe_every, force=form.force,
    )
    if home is not None and distributed.is_main_process():
        preflight_storage(home, spec, form.merge, form.release)
    grading.judge.preflight()
    record = RecordOptions(form.grounds, form.received, form.requester_ref, form.request_id)
    return EraseRequest(spec, grading, policy, record, form.merge, lineage, form.release, notes)


# The least training per person measured to hold: 10 people in one run of 30 steps of 8 (24
# examples each) passed the default policy on 3 of 3 seeds; 20 people with 12 each held one back
# on one seed in 3 (docs/batches.md).
EXAMPLES_PER_PERSON = 24


def covering(training: TrainingConfig, people, earlier) -> tuple[TrainingConfig, tuple[str, ...]]:
    """The training, with the recipe's steps raised so that every person in the forget data
    (earlier people's included) gets EXAMPLES_PER_PERSON examples (the dose per person falls as
    a batch grows); and what to say about it. Steps set to another number are kept, with a
    warning when they fall short."""
    people_count = len(people) + len(earlier)
    needed = -(-EXAMPLES_PER_PERSON * people_count // (training.batch_size * training.grad_accum_steps))
    if training.steps >= needed:
        return training, ()
    why = f"{people_count} people to train on, {EXAMPLES_PER_PERSON} examples each (the least measured to hold, docs/batches.md)"
    if training.steps != TrainingConfig().steps:
        return training, (f"--steps {training.steps} gives fewer than {needed} steps for {why}",)
    return replace(training, steps=needed), (f"--steps raised from {training.steps} to {needed}: {why}",)


def plan_lineage(form: RequestForm, model_dir: Path, log, people) -> LineagePlan:
    """Is `model_dir` a known version? Then start from it only if that brings nobody back, take
    the sound reference from its original base, and re-probe everyone its ancestors erased."""
    if form.reprobe_every < 1:
        raise InputError("--reprobe-every must be 1 or more (1: every earlier person on every release)")
    if form.new_lineage is not None and not form.new_lineage.strip():
        raise InputError("--new-lineage needs a reason (it is recorded), e.g. --new-lineage 'first erasure on model X'")
    if log is None:
        return LineagePlan(plan_start(Lineage(), model_dir, form.fork, form.new_lineage))
    from forgetctl.canaries import load_bystanders
    from forgetctl.verification import load_earlier

    lineage = Lineage.from_log(log)
    start = plan_start(lineage, model_dir, form.fork, form.new_lineage)
    earlier, detectors, unverifiable = load_earlier(log, start.earlier)
    bystanders = load_bystanders(log, start.version.root if start.version else start.digest)
    # The new release sits one below its start; only people whose evidence is readable take turns.
    readable = tuple(e.label for e in earlier)
    _, deferred = reprobe_choice(readable, lineage.depth(start.version) + 1, form.reprobe_every)
    return LineagePlan(start, tuple(without_the_erased(earlier, people)), detectors, unverifiable, bystanders, tuple(deferred))


def without_the_erased(earlier: list, people) -> list:
    """An earlier erasure's retain photos of someone who is erased now (or was since) would count
    their forgetting as collateral damage: they are left out of that measurement."""
    erased = {p.sha256 for person in people for p in person.views}
    erased |= {p.sha256 for e in earlier for photos in e.photos.values() for p in photos}
    return [
        replace(e, retain=tuple(p for p in e.retain if p.sha256 not in erased),
                retain_before=tuple(b for p, b in zip(e.retain, e.retain_before) if p.sha256 not in erased))
        for e in earlier
    ]
