"""`forgetctl erase`: train a LoRA adapter that makes the model forget one or more people."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import typer
from rich.table import Table

from forgetctl.cli.ui import console, err_console, progress
from forgetctl.config import forgetctl_home
from forgetctl.engine.erase import Entity, EraseResult
from forgetctl.engine.training import TrainingConfig
from forgetctl.errors import InputError
from forgetctl.evaluation.summary import summarize
from forgetctl.host.manager import create_host
from forgetctl.trail import GROUNDS, open_log, record_outcome, record_request, record_started


def parse_method_options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--method-option takes KEY=VALUE, got {pair!r}")
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
):
    """Erase people: harvest what the model reveals from their photos and unlearn it."""
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
    request = {"grounds": grounds, "received": received_date, "requester_ref": requester_ref, "request_id": request_id}
    result, request_ids = run_erase(
        entities, method, parse_method_options(method_option), training, model, retain, merge, request
    )
    render_result(result, method, request_ids)


def run_erase(entities, method, method_options, training, model, retain, merge, request: dict | None = None):
    """Run an erasure and record it: request, run started, then erasure / failure / interruption."""
    from forgetctl.engine.erase import erase

    request = request or {}
    home = forgetctl_home()
    log = None
    request_ids: list[str] = []
    run_id = None

    def started():
        # Only once the inputs are valid: bad input leaves no keys, database or records behind.
        nonlocal log, run_id
        log = open_log(home, announce=lambda m: err_console.print(m, highlight=False))
        for entity in entities:
            request_ids.append(record_request(
                log, entity.name, request.get("grounds", "a"), request.get("received"),
                request.get("requester_ref"), request.get("request_id") if len(entities) == 1 else None,
            ))
        run_id = record_started(log, request_ids, {
            "method": method, "method_options": method_options, "training": training.as_dict(),
            "model": str(model) if model else "forgetctl demo model", "people_in_run": len(entities),
        })

    try:
        with progress() as bar:
            def phase(name, total):
                task = bar.add_task(name, total=total)
                return lambda n: bar.advance(task, n)

            try:
                result = erase(
                    entities, home, create_host().methods(), method_name=method,
                    method_options=method_options, training=training, model_dir=model, retain_dir=retain,
                    merge_to=merge, phase=phase, on_validated=started,
                    on_step=lambda e: err_console.print(
                        f"step {e['step']:3d}  loss {e['loss']:9.4f}  forget {e['forget_loss']:9.4f}  "
                        f"retain {e['retain_loss']:.4f}",
                        highlight=False,
                    ),
                )
            except BaseException as exc:
                if run_id is not None:
                    outcome = "run-interrupted" if isinstance(exc, KeyboardInterrupt) else "run-failed"
                    # The error's class only: its message may quote file names or answers.
                    record_outcome(log, request_ids, run_id, {"outcome": outcome, "error": type(exc).__name__})
                raise
        summary = summarize(result.forget, result.retain)
        by_request = dict(zip((e.name for e in entities), request_ids))
        manifest = {k: v for k, v in result.manifest.items() if k != "loss_log"}
        record_outcome(
            log, request_ids, run_id,
            {
                "outcome": "erasure", "run_dir": str(result.run_dir), "manifest": manifest,
                "final_loss": result.manifest["loss_log"][-1],
                "metrics": {by_request[name]: m for name, m in summary["forget"].items()},
                "retain_metrics": summary["retain"],
            },
            evidence={by_request[entity.name]: erasure_evidence(entity, result) for entity in entities},
        )
        return result, by_request
    finally:
        if log is not None:
            log.close()


def erasure_evidence(entity: Entity, result: EraseResult) -> dict:
    """The personal data behind an erasure, kept only encrypted: who, what was known, the photos
    (so `verify --model` can re-probe them later) and the answers before and after."""
    return {
        "subject": entity.name,
        "profile": entity.profile,
        "probes": {
            split: [
                {
                    "sha256": p.photo.sha256, "image": base64.b64encode(p.photo.path.read_bytes()).decode(),
                    "before": p.before, "after": p.after,
                }
                for p in probes
            ]
            for split, probes in result.forget[entity.name].items()
        },
    }


def render_result(result: EraseResult, method: str, request_ids: dict[str, str]) -> None:
    for name, splits in result.forget.items():
        table = Table(title=f"{name}: first probe answer before and after erasure ({method})")
        for column in ("view", "before", "after"):
            table.add_column(column, overflow="fold")
        for split, probes in splits.items():
            for probe in probes:
                table.add_row(f"{probe.photo.path.name} ({split})", probe.before[0], probe.after[0])
        console.print(table)
    summary = summarize(result.forget, result.retain)
    table = Table(title="Measured on every probe answer")
    for column in ("person", "views", "answers", "name leaks", "refusals", "degenerate", "ROUGE-L vs before"):
        table.add_column(column)
    for name, splits in summary["forget"].items():
        for split, m in splits.items():
            table.add_row(
                name, split, str(m["answers"]), f"{m['name_leak_rate']:.0%}", f"{m['refusal_rate']:.0%}",
                f"{m['degenerate_rate']:.0%}", f"{m['rouge_l_vs_before']:.3f}",
            )
    console.print(table)
    r = summary["retain"]
    console.print(f"Retain answers: ROUGE-L vs before {r['rouge_l_vs_before']:.3f} (drop {r['rouge_l_drop']:.3f})")
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in result.manifest["timings_s"].items())
    console.print(f"Adapter and manifest in [cyan]{result.run_dir}[/]  ({timings})")
    for name, request_id in request_ids.items():
        console.print(f"Recorded in the audit log as request [bold]{request_id}[/] ({name}); check with `forgetctl verify`")
