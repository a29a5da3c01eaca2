"""The domain of an erasure, free of torch: who is erased, from which photos, how the adapter is
trained, what was asked and answered. The engine fills these in; requests, the pipeline,
lineage, verification and reports read them without loading a model library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from forgetctl.errors import InputError

if TYPE_CHECKING:
    from PIL import Image
    from pydantic import BaseModel

    from forgetctl.engine.images import Photo
    from forgetctl.engine.loading import LoadedModel


@dataclass(frozen=True)
class Example:
    """One (image, question, answer) triple. `key` is stable across steps, for per-sample caches."""

    image: Image.Image
    question: str
    answer: str
    key: str


@dataclass
class Harvest:
    """What the base model says before erasure: the leaks to unlearn and the answers to keep."""

    views: list[Photo]  # every person's seen views, then every person's unseen views
    before: list[list[str]]  # identity answers per view
    references: list[str]  # per view: what the base model says is visible
    retain_views: list[Photo]
    retain_questions: tuple[str, ...]
    retain_before: list[list[str]]  # the answers to keep (also the retain "before" of evaluation)
    retain_references: list[str]
    forget: list[Example]  # seen views only
    retain: list[Example]
    retain_are_others: bool  # other people's photos (--retain), or the erased people's own, described
    held: list[Example] = field(default_factory=list)  # earlier people's erased answers, kept (harvest)

    def said(self) -> dict[int, tuple[list[str], str]]:
        """Per view (by identity): the base model's answers, and its description of what is visible."""
        return {id(p): (b, r) for p, b, r in zip(self.views, self.before, self.references)}


# Where LoRA goes (each family says where these layers live: engine/families.py): the language
# model's linear layers, the paper's choice, or also the projector.
LORA_TARGETS = ("language", "language+projector")


@dataclass(frozen=True)
class TrainingConfig:
    """The PUBG paper's recipe: LoRA r=128, alpha=256, AdamW, batch 8, 30 steps."""

    steps: int = 30
    batch_size: int = 8
    learning_rate: float | None = None  # None: the method's rate for this model family
    lora_rank: int = 128
    lora_alpha: int = 256
    lora_dropout: float = 0.0
    # The paper weighs the retain loss 1 (on 7B models). On the test models 1 let one erasure in
    # three rewrite some retain person's answers (ROUGE-L drop up to 0.38); 10 kept every measured
    # run under 0.01 with the same leaks (docs/findings.md, "Retain weight").
    retain_weight: float = 10.0
    max_grad_norm: float = 1.0
    grad_accum_steps: int = 1
    gradient_checkpointing: bool | None = None  # None: on for CUDA, off on CPU
    seed: int = 0
    lora_targets: str = "language"  # one of LORA_TARGETS
    # Sharpness-aware minimization (Fan et al. 2025, against relearning): each step descends
    # from the worst point within this radius of the weights; 0 turns it off.
    sam_rho: float = 0.0
    # Every this many steps the model is asked again on a few training and retain photos, and the
    # adapter of the best watched step is kept, not the last (docs/stability.md: the last step's
    # verdict flipped with a CPU's rounding); 0 keeps the last step, as the paper does.
    watch_every: int = 5

    def __post_init__(self):
        """Every field checked here, once, whoever builds the config (the CLI, a benchmark, a
        test): a bad value is one line naming the option, before anything loads."""
        bounds = {  # field: (the option that sets it, the least value allowed, whether that value is allowed)
            "steps": ("--steps", 1, True), "batch_size": ("--batch-size", 1, True),
            "grad_accum_steps": ("--grad-accum", 1, True), "lora_rank": ("--rank", 1, True),
            "lora_alpha": ("--alpha", 1, True), "lora_dropout": ("lora_dropout", 0, True),
            "retain_weight": ("--retain-weight", 0, True), "max_grad_norm": ("max_grad_norm", 0, False),
            "sam_rho": ("--sam-rho", 0, True), "watch_every": ("--watch-every", 0, True),
            "learning_rate": ("--lr", 0, False),
        }
        for name, (flag, least, inclusive) in bounds.items():
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not (value >= least if inclusive else value > least)):
                raise InputError(f"{flag} must be a number {'at least' if inclusive else 'above'} {least}, not {value!r}")
        if self.lora_dropout >= 1:
            raise InputError(f"lora_dropout must be below 1, not {self.lora_dropout}")
        if self.lora_targets not in LORA_TARGETS:
            raise InputError(f"--lora-targets must be one of {', '.join(LORA_TARGETS)}")
        if self.sam_rho and self.grad_accum_steps > 1:
            raise InputError("--sam-rho works with --grad-accum 1 (both passes of a step use the same batch)")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Person:
    """Someone to erase: their photos, split into seen (trained on) and unseen (held out)."""

    name: str
    seen: tuple[Photo, ...]
    unseen: tuple[Photo, ...]
    profile: str | None = None  # known facts, used by evaluation; never written in plaintext

    @property
    def views(self) -> tuple[Photo, ...]:
        return self.seen + self.unseen


@dataclass(frozen=True)
class Earlier:
    """Someone an earlier release of this lineage erased, from their request's evidence: their
    photos and what the original base said about them (per split), and the retain photos of
    that erasure with the base's answers. Re-probed after every later release. `held`: their
    seen photos with the answers the erasing release gave (none of which leaked), which later
    releases keep as retain targets so that training on someone new does not undo them."""

    label: str  # the request id
    photos: dict[str, tuple[Photo, ...]]  # "seen" / "unseen"
    before: dict[str, tuple[list[str], ...]]
    retain: tuple[Photo, ...] = ()
    retain_before: tuple[list[str], ...] = ()
    held: tuple[tuple[Photo, list[str]], ...] = ()


@dataclass(frozen=True)
class Bystander:
    """A canary: one person an operator registered for a lineage (`forgetctl canaries add`), with
    the original base's answers about their photos. Every erasure on the lineage asks again and
    never trains on them, so a look-alike forgotten on the side fails the run that did it."""

    label: str  # "<canary set id>#<person>"
    photos: tuple[Photo, ...]
    before: tuple[list[str], ...]  # per photo, the original base's answers to the retain questions


@dataclass(frozen=True)
class EraseSpec:
    """What the engine needs to erase people, already validated (see forgetctl.request)."""

    people: tuple[Person, ...]
    model_dir: Path
    method: object  # forgetctl.host.manager.Registered: the method class and its plugin stamp
    method_options: BaseModel  # the method's validated Options (forgetctl.methods.MethodOptions)
    training: TrainingConfig
    retain: tuple[Photo, ...] = ()  # other people's photos; empty: the people's own descriptions
    # How a photo is named in the manifest, from its SHA-256; the pipeline passes a keyed hash so
    # that whoever holds a photo cannot confirm from a manifest that it was processed.
    photo_id: Callable[[str], str] = str
    # Starting from a release: the original base, whose answers say what each person's facts are
    # (a release may already have garbled them), and the people erased before.
    reference_dir: Path | None = None
    # The model folder's file hashes, as validation took them (hashing 15 GB twice costs a minute);
    # empty: the engine hashes the folder itself.
    model_files: dict = field(default_factory=dict, compare=False)
    earlier: tuple[Earlier, ...] = ()
    keep_earlier: bool = False  # train on earlier people's leaks again; else their erased answers are held
    bystanders: tuple[Bystander, ...] = ()  # the lineage's canaries
    deferred: tuple[str, ...] = ()  # earlier people not re-probed by this release (their turn comes later)
    reprobe_every: int = 1  # each earlier person is re-probed at least once in this many releases
    force: bool = False  # train even for people the base model does not identify (recorded)


@dataclass(frozen=True)
class Probe:
    """Answers to the identity questions on one photo, before and after erasure, and the base
    model's own description of what the photo shows."""

    photo: Photo
    before: list[str]
    after: list[str] = field(default_factory=list)
    reference: str = ""



@dataclass
class EraseResult:
    run_dir: Path | None  # None: nobody was identifiable, nothing was trained or written
    manifest: dict | None
    forget: dict[str, dict[str, list[Probe]]]  # person name -> {"seen": [...], "unseen": [...]}
    retain: list[Probe]
    loaded: LoadedModel = field(repr=False)
    retain_are_others: bool = True
    # Per earlier request: {"seen"/"unseen": probes of their photos, "retain": their retain probes}.
    earlier: dict[str, dict[str, list[Probe]]] = field(default_factory=dict)
    # Per canary (Bystander.label): their photos asked again after erasure.
    bystanders: dict[str, list[Probe]] = field(default_factory=dict)
    start_named: float | None = None  # share of the starting release's answers that still name the people
    # Per person (everyone asked for): whether the base model identified them, as measured.
    identified: dict = field(default_factory=dict)  # name -> forgetctl.evaluation.identification.Identification
    # The people left out because the base model does not identify them: their photos, answered before.
    not_identifiable: dict[str, dict[str, list[Probe]]] = field(default_factory=dict)
    # Per person and split: the knowledge tests before and after (forgetctl.evaluation.knowledge).
    knowledge: dict[str, dict[str, dict]] = field(default_factory=dict)

    @property
    def trained(self) -> bool:
        return self.run_dir is not None


