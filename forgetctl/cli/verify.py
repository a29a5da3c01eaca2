"""`forgetctl verify`: check the audit trail, and re-test erased models (GDPR Art. 32(1)(d))."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from forgetctl.cli.audit import open_existing_log, read_head
from forgetctl.cli.ui import console, err_console, phases, progress


def verify_command(
    against: Path = typer.Option(None, "--against", help="A signed tree head exported earlier (audit head)."),
    pin: str = typer.Option(None, "--pin", help="The root key fingerprint you hold (keys show): the chain must start there."),
    model: Path = typer.Option(None, "--model", help="Re-probe every erased person on this model directory."),
    adapter: Path = typer.Option(None, "--adapter", help="LoRA adapter to apply on --model (a run's adapter/)."),
    request: str = typer.Option(None, "--request", help="Re-probe only this request."),
):
    """Check every signature, the hash chain and the Merkle tree; optionally re-probe a model.

    Exit codes: 0 all checks pass, 2 a check failed (tampering or a person no longer forgotten),
    1 the command could not run.
    """
    log = open_existing_log(readonly=model is None)
    head = read_head(against) if against is not None else None
    report = log.verify(against=head, pin=pin)
    if report.ok:
        suffix = f" and extend the tree head in {against}" if against else ""
        console.print(f"[green]OK[/]: {report.records} records: signatures, key chain, hash chain and tree verify{suffix}")
        console.print(f"Root key fingerprint: {report.root_fingerprint}" + (" (as pinned)" if pin else " (compare it with the one you hold, or pass --pin)"))
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
