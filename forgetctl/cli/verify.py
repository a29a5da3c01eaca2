"""`forgetctl verify`: check the audit trail, and re-test erased models (GDPR Art. 32(1)(d))."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from forgetctl.cli.audit import open_existing_log
from forgetctl.cli.ui import console, err_console, phases, progress
from forgetctl.errors import InputError


def verify_command(
    against: Path = typer.Option(None, "--against", help="A signed tree head exported earlier (audit head)."),
    model: Path = typer.Option(None, "--model", help="Re-probe every erased person on this model directory."),
    adapter: Path = typer.Option(None, "--adapter", help="LoRA adapter to apply on --model (a run's adapter/)."),
    request: str = typer.Option(None, "--request", help="Re-probe only this request."),
):
    """Check every signature, the hash chain and the Merkle tree; optionally re-probe a model.

    Exit codes: 0 all checks pass, 2 a check failed (tampering or a person no longer forgotten),
    1 the command could not run.
    """
    log = open_existing_log()
    head = None
    if against is not None:
        try:
            head = json.loads(against.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read tree head {against}: {exc}") from None
    report = log.verify(against=head)
    if report.ok:
        suffix = f" and extend the tree head in {against}" if against else ""
        console.print(f"[green]OK[/]: {report.records} records: signatures, chain and tree verify{suffix}")
    else:
        where = f" (first bad record: #{report.first_bad_seq})" if report.first_bad_seq else ""
        err_console.print(f"[bold red]FAILED[/]{where}")
        for problem in report.problems:
            err_console.print(f"  - {problem}", highlight=False)
        log.close()
        raise typer.Exit(2)
    if model is not None:
        from forgetctl.verification import reprobe

        with progress() as bar:
            phase = phases(bar)
            results = reprobe(log, model, adapter, request, phase)
        log.close()
        table = Table(title=f"Re-probe of {model}{' + ' + str(adapter) if adapter else ''}")
        for column in ("request", "views", "answers", "name leaks", "ROUGE-L vs before", "still forgotten"):
            table.add_column(column)
        for r in results:
            for split, m in r["metrics"].items():
                table.add_row(
                    r["request_id"], split, str(m["answers"]), f"{m['name_leak_rate']:.0%}",
                    f"{m['rouge_l_vs_before']:.3f}", "[green]yes[/]" if r["forgotten"] else "[red]NO[/]",
                )
        console.print(table)
        console.print("Recorded as signed verification entries in the audit log.")
        if not all(r["forgotten"] for r in results):
            raise typer.Exit(2)
    else:
        log.close()
