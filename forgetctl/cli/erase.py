"""`forgetctl erase`: train a LoRA adapter that makes the model forget one or more people."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from forgetctl.cli.ui import console, err_console, phases, progress
from forgetctl.config import forgetctl_home
from forgetctl.errors import InputError
from forgetctl.host.manager import create_host
from forgetctl.policy import EXIT_POLICY_FAILED, load_policy
from forgetctl.trail import GROUNDS

if TYPE_CHECKING:  # the engine imports torch: loaded only when a command needs it
    from forgetctl.engine.erase import Entity
    from forgetctl.pipeline import Outcome, RequestOptions


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


def read_profile(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read profile {path}: {exc}") from None


def read_requests(path: Path) -> list[Entity]:
    """JSON lines: {"entity": NAME, "images": DIR, "profile": FILE?}; relative paths from the file."""
    from forgetctl.engine.erase import Entity

    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise InputError(f"cannot read requests file {path}: {exc}") from None
    entities = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            name, images = row["entity"], path.parent / row["images"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise InputError(f"{path}:{number}: expected {{\"entity\": NAME, \"images\": DIR}}") from None
        profile = read_profile(path.parent / row["profile"]) if row.get("profile") else None
        entities.append(Entity(name, images, profile))
    if not entities:
        raise InputError(f"requests file {path} names nobody")
    return entities


def erase_command(
    entity: list[str] = typer.Option([], "--entity", help="Person to forget (repeat for several)."),
    images: list[Path] = typer.Option([], "--images", help="Folder of their photos (one per --entity, in order)."),
    profile: list[Path] = typer.Option([], "--profile", help="Text file of known facts (one per --entity)."),
    requests: Path = typer.Option(None, "--requests", help="JSON lines of {entity, images, profile?}."),
    method: str = typer.Option("pubg", "--method", help="Unlearning method (see `forgetctl plugins`)."),
    method_option: list[str] = typer.Option([], "--method-option", help="Method hyperparameter KEY=VALUE."),
    model: Path = typer.Option(None, "--model", help="Local llava-hf model directory (default: the demo model)."),
    retain: Path = typer.Option(None, "--retain", help="Other people's photos, one sub-folder each."),
    merge: Path = typer.Option(None, "--merge", help="Also write base + adapter merged into this new directory."),
    steps: int = typer.Option(30, min=1, help="Training steps."),
    batch_size: int = typer.Option(8, min=1, help="Forget (and retain) examples per step."),
    grad_accum: int = typer.Option(1, min=1, help="Gradient accumulation steps."),
    lr: float = typer.Option(None, help="Learning rate (default: the method's for this model family)."),
    rank: int = typer.Option(128, min=1, help="LoRA rank."),
    alpha: int = typer.Option(256, min=1, help="LoRA alpha."),
    seed: int = typer.Option(0, help="Random seed."),
    request_id: str = typer.Option(None, "--request-id", help="Existing request to attach this run to."),
    grounds: str = typer.Option("a", help=f"GDPR Art. 17(1) ground: {', '.join(GROUNDS)}."),
    received: str = typer.Option(None, help="Date the request was received (YYYY-MM-DD; default today)."),
    requester_ref: str = typer.Option(None, "--requester-ref", help="Your ticket or case reference."),
    judge: str = typer.Option("heuristic", "--judge", help="Judge plugin: heuristic (offline) or ollama."),
    judge_model: str = typer.Option(None, "--judge-model", help="Ollama model for --judge ollama (OLLAMA_HOST picks the server)."),
    judge_option: list[str] = typer.Option([], "--judge-option", help="Judge setting KEY=VALUE (timeout, retries, backoff, num_ctx)."),
    policy: str = typer.Option("default", "--policy", help="Policy name (default, strict) or a .toml file."),
    distractors: Path = typer.Option(None, "--distractors", help="JSON lines of other people {name, summary} for USR."),
    clip_model: str = typer.Option(None, "--clip-model", help="open_clip architecture for CLIPScore (default: demo CLIP)."),
    clip_pretrained: Path = typer.Option(None, "--clip-pretrained", help="Local open_clip checkpoint for --clip-model."),
):
    """Erase people: harvest what the model reveals from their photos, unlearn it, measure it,
    judge it against a policy, and record it.

    Exit codes: 0 erased and the policy passed; 2 the policy failed (the adapter is kept, the run
    is recorded as failed); 1 an error (bad input, a model that will not load, ...).
    """
    from forgetctl.engine.erase import Entity
    from forgetctl.engine.training import TrainingConfig
    from forgetctl.pipeline import RequestOptions

    if requests is not None:
        if entity:
            raise InputError("use either --requests or --entity/--images, not both")
        entities = read_requests(requests)
    else:
        if not entity or len(entity) != len(images):
            raise InputError("give --entity NAME --images DIR (one --images folder per --entity, in order)")
        if profile and len(profile) != len(entity):
            raise InputError("give one --profile per --entity, or none")
        profiles = [read_profile(p) for p in profile] or [None] * len(entity)
        entities = [Entity(n, d, p) for n, d, p in zip(entity, images, profiles)]
    training = TrainingConfig(
        steps=steps, batch_size=batch_size, grad_accum_steps=grad_accum, learning_rate=lr,
        lora_rank=rank, lora_alpha=alpha, seed=seed,
    )
    try:
        received_date = dt.date.fromisoformat(received) if received else None
    except ValueError:
        raise InputError(f"--received must be a date like 2026-11-22, not {received!r}") from None
    outcome = run_erase(
        entities, method, parse_options(method_option), training, model, retain, merge,
        RequestOptions(grounds, received_date, requester_ref, request_id),
        judge=judge, judge_options={**parse_options(judge_option, "--judge-option"), **({"model": judge_model} if judge_model else {})},
        policy=policy, distractors=distractors,
        clip_model=clip_model, clip_pretrained=clip_pretrained,
    )
    if outcome is None:  # not the main process of an `accelerate launch`: it reports
        return
    render_outcome(outcome, method)
    if not outcome.verdict["passed"]:
        raise typer.Exit(EXIT_POLICY_FAILED)


def run_erase(
    entities, method, method_options, training, model, retain, merge, request: RequestOptions,
    judge="heuristic", judge_options=None, policy="default", distractors=None, clip_model=None, clip_pretrained=None,
) -> Outcome | None:
    """Resolve the judge, CLIP, distractors and policy (all before any work), then run the request.
    Under `accelerate launch` the other processes only help erase, quietly, and return None."""
    from forgetctl.engine.distributed import is_main_process
    from forgetctl.engine.erase import no_progress
    from forgetctl.evaluation.clipscore import demo_clip, load_clip
    from forgetctl.evaluation.evaluate import bundled_distractors, read_distractors
    from forgetctl.pipeline import run_request

    host = create_host()
    judges = host.judges()
    if judge not in judges:
        raise InputError(f"unknown judge {judge!r}; choose one of {', '.join(sorted(judges))}")
    try:
        judge_instance = judges[judge].cls(**(judge_options or {}))
    except TypeError as exc:
        raise InputError(f"bad --judge-option for {judge}: {exc}") from None
    chosen_policy = load_policy(policy)
    corpus = read_distractors(distractors) if distractors else bundled_distractors()
    main = is_main_process()
    if not main:
        clip = None  # only the main process evaluates
    elif clip_model:
        clip = load_clip(clip_model, clip_pretrained)
    elif model is None:
        clip = demo_clip()
    else:
        clip = None  # the demo CLIP knows only demo portraits; reported as not measured

    def run(phase=no_progress, on_step=None, announce=None):
        return run_request(
            forgetctl_home(), entities, host.methods(), method, method_options, training, model, retain, merge,
            judge_instance, clip, corpus, chosen_policy, request, phase=phase, on_step=on_step, announce=announce,
        )

    if not main:
        return run()
    with progress() as bar:
        return run(
            phases(bar),
            on_step=lambda e: err_console.print(
                f"step {e['step']:3d}  loss {e['loss']:9.4f}  forget {e['forget_loss']:9.4f}  retain {e['retain_loss']:.4f}",
                highlight=False,
            ),
            announce=lambda m: err_console.print(m, highlight=False),
        )


def fmt(value, spec=".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def render_outcome(outcome: Outcome, method: str) -> None:
    result, evaluation = outcome.result, outcome.evaluation
    for name, splits in result.forget.items():
        table = Table(title=f"{name}: first probe answer before and after erasure ({method})")
        for column in ("view", "before", "after"):
            table.add_column(column, overflow="fold")
        for split, probes in splits.items():
            for probe in probes:
                table.add_row(f"{probe.photo.path.name} ({split})", probe.before[0], probe.after[0])
        console.print(table)

    table = Table(title=f"Measured ({evaluation['judge']['label']})")
    columns = ("person", "views", "USR", "name leaks", "privacy", "CLIPScore", "inform", "halluc.", "refusals", "degenerate", "ROUGE-L")
    for column in columns:
        table.add_column(column)
    for name, splits in evaluation["forget"].items():
        for split, m in splits.items():
            table.add_row(
                name, split, fmt(m["usr"]), fmt(m["name_leak_rate"], ".0%"), fmt(m["judge_privacy"], ".1f"),
                fmt(m["clipscore"], ".3f"), fmt(m["judge_informativeness"], ".1f"), fmt(m["judge_hallucination"], ".1f"),
                fmt(m["refusal_rate"], ".0%"), fmt(m["degenerate_rate"], ".0%"), fmt(m["rouge_l_vs_before"], ".3f"),
            )
    console.print(table)
    if all(m["clipscore"] is None for splits in evaluation["forget"].values() for m in splits.values()):
        console.print("CLIPScore not measured: pass --clip-model ARCH --clip-pretrained FILE for this model.")
    r = evaluation["retain"]
    console.print(
        f"Retain answers: ROUGE-L vs before {fmt(r['rouge_l_vs_before'], '.3f')} (drop {fmt(r['rouge_l_drop'], '.3f')}), "
        f"informativeness {fmt(r['judge_informativeness'], '.1f')}, CLIPScore {fmt(r['clipscore'], '.3f')}"
    )

    decision = outcome.verdict
    table = Table(title=f"Policy {decision['policy']}: {'PASSED' if decision['passed'] else 'FAILED'}")
    for column in ("check", "measured", "threshold", "result"):
        table.add_column(column)
    for check in decision["checks"]:
        measured = fmt(check["measured"], ".3f") if check["measured"] is not None else f"n/a ({check['note']})"
        table.add_row(check["name"], measured, f"{check['comparison']} {check['threshold']}",
                      "[green]pass[/]" if check["passed"] else "[red]FAIL[/]")
    console.print(table)
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in result.manifest["timings_s"].items())
    console.print(f"Adapter and manifest in [cyan]{result.run_dir}[/]  ({timings})")
    for name, request_id in outcome.request_ids.items():
        state = "an erasure" if decision["passed"] else "a run that failed its policy"
        console.print(f"Recorded in the audit log as {state} under request [bold]{request_id}[/] ({name})")
