"""`forgetctl bench`: the paper's comparison on the demo world, the field's benchmarks, and the
performance harness."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from forgetctl.cli.ui import console, phase_progress

app = typer.Typer(help="Reproduce the paper's comparison, run the field's benchmarks, measure performance.",
                  rich_markup_mode="markdown")


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


@app.command("peer")
def peer_command(
    format: str = typer.Option(..., "--format", help="fiubench, mllmu, umu or clear."),
    data: Path = typer.Option(..., "--data", help="The benchmark's folder as downloaded."),
    split: str = typer.Option(..., "--split", help="Its forget split, e.g. forget5 (FIUBench), forget_5, forget01 (CLEAR)."),
    method: list[str] = typer.Option(["pubg"], "--method", help="Methods to run (repeat)."),
    model: Path | None = typer.Option(None, "--model", help="The model fine-tuned on the benchmark (default: the demo model)."),
    retain_people: int = typer.Option(5, "--retain-people", min=0, help="Retain people in the erasure's --retain folder."),
    retain_eval: int | None = typer.Option(None, "--retain-eval", min=1, help="Retain people asked its questions (default: all)."),
    out: Path = typer.Option(Path("docs/peers"), "--out", help="Folder for FORMAT-SPLIT.md and .json."),
):
    """Erase a benchmark's forget split with forgetctl's engine; its own metrics beside forgetctl's."""
    import json

    from forgetctl.benchmarks.peers import read_benchmark
    from forgetctl.demo import demo_model_dir
    from forgetctl.errors import unknown_name
    from forgetctl.host.manager import create_host

    bench = read_benchmark(format, data)  # every refusal before torch loads, let alone a model
    bench.split(split)
    methods = create_host().methods()
    for name in method:
        if name not in methods:
            raise unknown_name("method", name, methods)
    from forgetctl.benchmarks.peers.run import run_peer
    from forgetctl.benchmarks.peers.table import to_markdown
    from forgetctl.benchmarks.performance import machine

    model_dir = model or demo_model_dir()
    command = (f"forgetctl bench peer --format {format} --data {data} --split {split} "
               + " ".join(f"--method {m}" for m in method) + (f" --model {model}" if model else ""))
    with phase_progress() as phase:
        result = run_peer(bench, split, list(method), model_dir, retain_people, retain_eval, phase)
    result["model"] = model.name if model else "the demo model"
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{format}-{split}"
    stem.with_suffix(".json").write_text(json.dumps({**result, "command": command}, indent=2, default=str) + "\n")
    stem.with_suffix(".md").write_text(to_markdown(result, command, machine()))
    console.print(stem.with_suffix(".md").read_text(), markup=False)
    console.print(f"Wrote {escape(str(stem))}.md and .json")
