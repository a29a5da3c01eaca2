"""`forgetctl bench`: the paper's comparison on the demo world, and the performance harness."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from forgetctl.cli.ui import console, phase_progress

app = typer.Typer(help="Reproduce the paper's comparison and measure performance on the demo world.", rich_markup_mode="markdown")


@app.command("compare")
def compare_command(
    people: list[int] = typer.Option([5, 10], "--people", help="Forget-set sizes (repeat)."),
    method: list[str] = typer.Option([], "--method", help="Methods to compare (default: all six)."),
    out: Path = typer.Option(Path("docs"), "--out", help="Folder for comparison.md, .json and .png."),
):
    """Run GA, NPO, RANDOM, REJECT, PUBG and VGID on the demo world; write the paper's tables."""
    from forgetctl.benchmarks.comparison import METHODS, compare, write_outputs

    methods = tuple(method) or METHODS
    command = "forgetctl bench compare " + " ".join(f"--people {n}" for n in people) + (
        "" if not method else " " + " ".join(f"--method {m}" for m in method)
    )
    with phase_progress() as phase:
        advance = phase("Erasing and evaluating", len(people) * len(methods))
        results = compare(tuple(people), methods, on_run=lambda n, m, row: advance(1))
    for path in write_outputs(results, out, command):
        console.print(f"Wrote {escape(str(path))}")
    console.print((out / "comparison.md").read_text())


@app.command("perf")
def perf_command(
    repeats: int = typer.Option(3, min=1, help="Repeats of the demo erase (the median is reported)."),
    out: Path = typer.Option(Path("docs/performance.json"), "--out", help="Where to write the JSON report."),
):
    """Phase times, peak memory and side-by-side ratios on the demo model (CPU or GPU)."""
    import json

    from rich.table import Table

    from forgetctl.benchmarks.performance import run_all

    with console.status("Measuring (each comparison in a fresh process)..."):
        report = run_all(repeats=repeats)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    table = Table(title=f"forgetctl bench perf — {report['machine']}")
    table.add_column("measurement")
    table.add_column("value")
    erase = report["demo_erase"]
    for phase, seconds in erase["median_timings_s"].items():
        table.add_row(f"demo erase: {phase} (median of {repeats})", f"{seconds:.2f} s")
    for rate, value in erase["median_rates"].items():
        table.add_row(f"demo erase: {rate.replace('_per_s', '')} (median)", f"{value:.1f} /s")
    table.add_row(f"demo erase: peak memory ({erase['memory']})", f"{erase['peak_memory_mb']:.0f} MB")
    g = report["generation"]
    table.add_row(f"generation batch {g['batch_size']} vs one-by-one", f"{g['speedup']:.2f}x ({g['identical_answers']:.0%} identical)")
    table.add_row("reference: second copy vs disable_adapter (peak memory)", f"{report['reference_memory']['ratio_second_copy']:.3f}x")
    n = report["npo_reference"]
    table.add_row("NPO reference every step vs once", f"{n['ratio']:.1f}x time ({n['every_step_s']:.2f} s vs {n['once_s']:.2f} s)")
    for key, value in report["peak_memory_by_method_mb"].items():
        table.add_row(f"peak memory {key}", f"{value:.3f}x" if "/" in key else f"{value:.0f} MB")
    for people, timings in report["people_scaling"].items():
        table.add_row(f"erase {people} people (no evaluation)", f"{timings['train']:.1f} s train, "
                      f"{timings['harvest'] + timings['evaluate']:.1f} s generation, {timings['total']:.1f} s total")
    console.print(table)
    console.print(f"Wrote {escape(str(out))}")
