"""Running a validated erasure request with progress on the terminal, and showing its outcome.
Shared by `forgetctl erase` and `forgetctl demo`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from forgetctl.cli.ui import console, err_console, phases, progress
from forgetctl.config import forgetctl_home

if TYPE_CHECKING:
    from forgetctl.pipeline import RunOutcome
    from forgetctl.request import EraseRequest


def run_with_progress(request: EraseRequest) -> RunOutcome | None:
    """Run the request with a progress bar per phase and a loss line per step. Under
    `accelerate launch` the other processes only help erase, quietly, and return None."""
    from forgetctl.engine.distributed import is_main_process
    from forgetctl.engine.reporting import Reporter
    from forgetctl.pipeline import run_request

    home = forgetctl_home()
    if not is_main_process():
        return run_request(request, home)
    with progress() as bar:
        report = Reporter(
            phase=phases(bar),
            step=lambda e: err_console.print(
                f"step {e['step']:3d}  loss {e['loss']:9.4f}  forget {e['forget_loss']:9.4f}  retain {e['retain_loss']:.4f}",
                highlight=False,
            ),
            notice=lambda m: err_console.print(escape(m), highlight=False),
        )
        return run_request(request, home, report)


def render_outcome(outcome: RunOutcome, method: str) -> None:
    from forgetctl.evaluation.metrics import in_scope

    result, evaluation = outcome.result, outcome.evaluation
    for name, splits in result.forget.items():
        table = Table(title=f"{escape(name)}: first answer before and after erasure ({method})")
        for column in ("view", "before", "after"):
            table.add_column(column, overflow="fold")
        for split, probes in splits.items():
            for probe in probes:
                table.add_row(f"{escape(probe.photo.path.name)} ({split})", escape(probe.before[0]), escape(probe.after[0]))
        console.print(table)

    for name, splits in evaluation["forget"].items():
        table = Table(title=f"Measured for {escape(name)} ({escape(evaluation['judge']['label'])})")
        table.add_column("metric")
        for split in splits:
            table.add_column(f"{split} views", justify="right")
        for metric in in_scope("forget"):
            table.add_row(f"{metric.label} {metric.arrow}", *(metric.format(m.get(metric.key)) for m in splits.values()))
        console.print(table)
    if all(m["clipscore"] is None for splits in evaluation["forget"].values() for m in splits.values()):
        console.print("CLIPScore not measured: pass --clip-model ARCH --clip-pretrained FILE for this model.")
    retain = evaluation["retain"]
    console.print("Retain answers: " + ", ".join(
        f"{m.label} {m.format(retain.get(m.key))}" for m in in_scope("retain")
    ))

    decision = outcome.verdict
    table = Table(title=f"Policy {decision['policy']}: {'PASSED' if decision['passed'] else 'FAILED'}")
    for column in ("check", "measured", "threshold", "result"):
        table.add_column(column)
    for check in decision["checks"]:
        measured = f"{check['measured']:.3f}" if check["measured"] is not None else f"n/a ({check['note']})"
        table.add_row(check["name"], measured, f"{check['comparison']} {check['threshold']}",
                      "[green]pass[/]" if check["passed"] else "[red]FAIL[/]")
    console.print(table)
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in result.manifest["timings_s"].items())
    console.print(f"Adapter and manifest in [cyan]{result.run_dir}[/]  ({timings})")
    if outcome.merged:
        console.print(f"Merged model (base + adapter) in [cyan]{outcome.merged}[/]")
    for name, request_id in outcome.request_ids.items():
        state = "an erasure" if decision["passed"] else "a run that failed its policy"
        console.print(f"Recorded in the audit log as {state} under request [bold]{request_id}[/] ({escape(name)})")
