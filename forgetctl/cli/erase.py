"""`forgetctl erase`: train a LoRA adapter that makes the model forget one or more people."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from forgetctl.cli.erasing import exit_code, render_outcome, render_plan, run_with_progress
from forgetctl.cli.flags import command_taking, flag
from forgetctl.config import forgetctl_home
from forgetctl.engine.images import LIMITS
from forgetctl.errors import ExitCode, InputError
from forgetctl.trail import GROUNDS

if TYPE_CHECKING:  # the request module (validation, plugins) loads only when erase runs, not for --help
    from forgetctl.request import PersonForm, RequestForm


def parse_options(pairs: list[str], flag: str = "--method-option") -> dict:
    """KEY=VALUE pairs; values are read as JSON where they parse (numbers, true, null), else text."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"{flag} takes KEY=VALUE, got {pair!r}")
        try:
            options[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            options[key.replace("-", "_")] = value
    return options


MAX_PROFILE_BYTES = 1 << 20  # a person's known facts, as text


def read_profile(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        if path.stat().st_size > MAX_PROFILE_BYTES:
            raise InputError(f"profile {path} is over {MAX_PROFILE_BYTES >> 20} MiB; it should hold a person's facts as text")
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read profile {path}: {exc}") from None


def inside(folder: Path, relative, where: str, what: str) -> Path:
    """A path from a requests file: text, relative, and inside the file's own folder (a file
    handed over by someone else must not reach the rest of the machine)."""
    if not isinstance(relative, str) or not relative.strip():
        raise InputError(f"{where}: \"{what}\" must be a path given as text")
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise InputError(f"{where}: \"{what}\" must stay inside the requests file's folder {folder}")
    return path


def read_requests(path: Path) -> list[PersonForm]:
    """JSON lines: {"entity": NAME, "images": DIR, "profile": FILE?}; paths relative to the file's
    folder and confined to it."""
    from forgetctl.request import PersonForm

    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read requests file {path}: {exc}") from None
    people = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
            name, images = row["entity"], row["images"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise InputError(f"{where}: expected {{\"entity\": NAME, \"images\": DIR}}") from None
        if not isinstance(name, str):
            raise InputError(f"{where}: \"entity\" must be the person's name as text")
        images = inside(path.parent, images, where, "images")
        profile = read_profile(inside(path.parent, row["profile"], where, "profile")) if row.get("profile") is not None else None
        people.append(PersonForm(name, images, profile))
    if not people:
        raise InputError(f"requests file {path} names nobody")
    return people


EXIT_CODES = (
    "Exit codes: 0 erased and the policy passed; 1 an error (bad input, a model that will not load, ...); "
    "2 a usage error; 3 the policy failed (the adapter is kept, the run is recorded as failed); "
    "4 the base model does not identify the person (nothing trained, recorded as not-identifiable); "
    "5 a batch in part: the people who passed their own checks are erased and released, the others held "
    "back (recorded as failed, their requests open); 130 interrupted (recorded as interrupted, the "
    "request left open)."
)


def people_from(requests: Path | None, entity: list[str], images: list[Path], profile: list[Path]) -> list:
    """The people of the request, from --requests or from --entity/--images/--profile."""
    from forgetctl.request import PersonForm

    if requests is not None:
        if entity:
            raise InputError("use either --requests or --entity/--images, not both")
        return read_requests(requests)
    if not entity or len(entity) != len(images):
        raise InputError("give --entity NAME --images DIR (one --images folder per --entity, in order)")
    if profile and len(profile) != len(entity):
        raise InputError("give one --profile per --entity, or none")
    profiles = [read_profile(p) for p in profile] or [None] * len(entity)
    return [PersonForm(n, d, p) for n, d, p in zip(entity, images, profiles)]


def received_date(received: str | None) -> dt.date | None:
    """--received as a date, never one in the future."""
    try:
        date = dt.date.fromisoformat(received) if received else None
    except ValueError:
        raise InputError(f"--received must be a date like 2026-11-22, not {received!r}") from None
    if date and date > dt.date.today():
        raise InputError(f"--received {date} is in the future; give the date the request arrived")
    return date


@dataclass(frozen=True)
class EraseFlags:
    """Every flag of `forgetctl erase`: its type, default and help, declared once."""

    entity: list[str] = flag([], "--entity", metavar="NAME", help="Person to forget (repeat for several).")
    images: list[Path] = flag([], "--images", metavar="DIR", help=f"Folder of their photos (one per --entity, in order; {LIMITS}).")
    profile: list[Path] = flag([], "--profile", metavar="FILE", help="Text file of known facts (one per --entity).")
    requests: Path = flag(None, "--requests", metavar="FILE", help="JSON lines of {entity, images, profile?}.")
    method: str = flag("pubg", "--method", metavar="NAME", help="Unlearning method (see `forgetctl plugins`).")
    method_option: list[str] = flag([], "--method-option", metavar="KEY=VALUE", help="Method option (see `forgetctl plugins`).")
    model: Path = flag(None, "--model", metavar="DIR", help="Local llava-hf model directory (default: the demo model).")
    retain: Path = flag(None, "--retain", metavar="DIR", help="Other people's photos, one sub-folder each.")
    merge: Path = flag(None, "--merge", metavar="DIR", help="Where to write the release (base + adapter merged) if the policy passes (default: FORGETCTL_HOME/releases/RUN_ID).")
    fork: bool = flag(False, "--fork", help="Start from a version that lacks a later erasure, on purpose (recorded).")
    new_lineage: str = flag(None, "--new-lineage", metavar="REASON", help="Start a new lineage from a model no release record knows, beside the existing one (the reason is recorded).")
    keep_earlier: bool = flag(False, "--keep-earlier/--no-keep-earlier", help="Train on the leaks of people erased by earlier releases again (the forget data and the steps grow with the lineage). Default: their erased answers are held in the retain loss, at a fixed cost per step (docs/lineage-year.md).")
    reprobe_every: int = flag(1, "--reprobe-every", min=1, metavar="K", help="Re-probe each person erased before at least once in every K releases (the K most recent always); 1: all of them, every release.")
    no_release: bool = flag(False, "--no-release", help="Keep only the adapter: no deployable version, the lineage does not advance.")
    steps: int = flag(30, min=1, help="Training steps.")
    batch_size: int = flag(8, min=1, help="Forget (and retain) examples per step.")
    grad_accum: int = flag(1, min=1, help="Gradient accumulation steps.")
    lr: float = flag(None, help="Learning rate (default: the method's for this model family).")
    rank: int = flag(128, min=1, help="LoRA rank.")
    alpha: int = flag(256, min=1, help="LoRA alpha.")
    seed: int = flag(0, help="Random seed.")
    retain_weight: float = flag(10.0, "--retain-weight", min=0.0, metavar="W", help="Weight of the retain loss next to the method's forget loss.")
    lora_targets: str = flag("language", "--lora-targets", metavar="WHERE", help="LoRA on the language model (language) or also the projector (language+projector).")
    sam_rho: float = flag(0.0, "--sam-rho", min=0.0, metavar="RHO", help="Sharpness-aware minimization radius (0: off); a defence against relearning.")
    watch_every: int = flag(5, "--watch-every", min=0, metavar="N", help="Ask again every N steps and keep the best step's adapter (0: keep the last).")
    request_id: str = flag(None, "--request-id", metavar="ID", help="Attach this run to an existing request (it must exist and not be shredded).")
    grounds: str = flag("a", metavar="LETTER", help=f"GDPR Art. 17(1) ground: {', '.join(GROUNDS)} (default a: {GROUNDS['a']}).")
    received: str = flag(None, metavar="DATE", help="Date the request was received (YYYY-MM-DD; default today).")
    requester_ref: str = flag(None, "--requester-ref", metavar="REF", help="Your ticket or case reference (stored encrypted).")
    judge: str = flag("grounded", "--judge", metavar="NAME", help="Judge plugin: grounded (offline) or ollama.")
    judge_model: str = flag(None, "--judge-model", metavar="MODEL", help="Ollama model for --judge ollama (OLLAMA_HOST picks the server).")
    judge_option: list[str] = flag([], "--judge-option", metavar="KEY=VALUE", help="Judge setting KEY=VALUE (timeout, retries, backoff, num_ctx).")
    policy: str = flag("default", "--policy", metavar="NAME|FILE", help="Policy name (default, strict) or a .toml file.")
    distractors: Path = flag(None, "--distractors", metavar="FILE", help="JSON lines of other people {name, summary} for USR.")
    clip_model: str = flag(None, "--clip-model", metavar="ARCH", help="open_clip architecture (or config JSON) for CLIPScore (default: the model folder's forgetctl.toml).")
    clip_pretrained: Path = flag(None, "--clip-pretrained", metavar="FILE", help="Local open_clip checkpoint for --clip-model.")
    force: bool = flag(False, "--force", help="Erase even a person the base model does not identify (recorded as forced).")
    dry_run: bool = flag(False, "--dry-run", help="Check every input and print the plan; load, train and record nothing.")


def request_form(f: EraseFlags) -> RequestForm:
    """The flags as the request form every erase is validated from (forgetctl.request.validate)."""
    from forgetctl.request import RequestForm
    from forgetctl.types import TrainingConfig

    judge_options = parse_options(f.judge_option, "--judge-option") | ({"model": f.judge_model} if f.judge_model else {})
    return RequestForm(
        people=people_from(f.requests, f.entity, f.images, f.profile), model=f.model, method=f.method,
        method_options=parse_options(f.method_option),
        training=TrainingConfig(
            steps=f.steps, batch_size=f.batch_size, grad_accum_steps=f.grad_accum, learning_rate=f.lr,
            lora_rank=f.rank, lora_alpha=f.alpha, seed=f.seed, lora_targets=f.lora_targets, sam_rho=f.sam_rho,
            retain_weight=f.retain_weight, watch_every=f.watch_every,
        ),
        retain=f.retain, merge=f.merge, judge=f.judge, judge_options=judge_options, policy=f.policy,
        distractors=f.distractors, clip_model=f.clip_model, clip_pretrained=f.clip_pretrained, grounds=f.grounds,
        received=received_date(f.received), requester_ref=f.requester_ref, request_id=f.request_id, fork=f.fork,
        new_lineage=f.new_lineage, keep_earlier=f.keep_earlier, reprobe_every=f.reprobe_every,
        release=not f.no_release, force=f.force,
    )


@command_taking(EraseFlags)
def erase_command(flags: EraseFlags):
    """Erase people: harvest what the model reveals from their photos, unlearn it, measure it,
    judge it against a policy, and record it (exit codes below)."""
    from forgetctl.demo import demo_model_dir
    from forgetctl.request import validate

    request = validate(request_form(flags), default_model=demo_model_dir(), home=forgetctl_home())
    if flags.dry_run:
        render_plan(request, forgetctl_home())
        return
    outcome = run_with_progress(request)
    if outcome is None:  # not the main process of an `accelerate launch`: it reports
        return
    render_outcome(outcome, flags.method)
    if exit_code(outcome) != ExitCode.OK:
        raise typer.Exit(exit_code(outcome))
