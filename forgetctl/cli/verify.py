"""`forgetctl verify`: check the audit trail, and re-test erased models (GDPR Art. 32(1)(d))."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from forgetctl.cli.audit import open_existing_log, read_head
from forgetctl.cli.ui import console, err_console, phases, progress
from forgetctl.errors import InputError


def verify_command(
    against: Path = typer.Option(None, "--against", metavar="HEAD", help="A signed tree head exported earlier (audit head)."),
    pin: str = typer.Option(None, "--pin", metavar="FINGERPRINT", help="The root key fingerprint you hold (keys show): the chain must start there."),
    model: Path = typer.Option(None, "--model", metavar="DIR", help="Re-probe the people this model is supposed to have forgotten: a release, or the base with --adapter."),
    adapter: Path = typer.Option(None, "--adapter", metavar="DIR", help="A run's adapter/ to apply on --model."),
    request: str = typer.Option(None, "--request", metavar="ID", help="Re-probe only this request."),
    allow_unerased: bool = typer.Option(False, "--allow-unerased", help="Probe the original base anyway (recorded as a test of a model without the erasure)."),
):
    """Check every signature, the key chain, the hash chain and the Merkle tree; optionally
    re-probe a model for the people it is supposed to have forgotten.

    Exit codes: 0 all checks pass, 2 a check failed (tampering or a person no longer forgotten),
    1 the command could not run.
    """
    if adapter is not None and model is None:
        raise InputError("--adapter needs --model: the base model the adapter was trained on")
    log = open_existing_log(readonly=model is None)
    try:
        head = read_head(against) if against is not None else None
        report = log.verify(against=head, pin=pin)
        if not report.ok:
            where = f" (first bad record: #{report.first_bad_seq})" if report.first_bad_seq else ""
            err_console.print(f"[bold red]FAILED[/]{where}")
            for problem in report.problems:
                err_console.print(f"  - {escape(problem)}", highlight=False)
            raise typer.Exit(2)
        suffix = f" and extend the tree head in {against}" if against else ""
        console.print(f"[green]OK[/]: {report.records} records: signatures, key chain, hash chain and tree verify{suffix}")
        console.print(f"Root key fingerprint: {report.root_fingerprint}"
                      + (" (as pinned)" if pin else " (compare it with the one you hold, or pass --pin)"))
        if model is not None:
            reprobe_model(log, model, adapter, request, allow_unerased)
    finally:
        log.close()


def reprobe_model(log, model: Path, adapter: Path | None, request: str | None, allow_unerased: bool) -> None:
    from forgetctl.report import describe_tested
    from forgetctl.verification import reprobe, select_targets

    targets = select_targets(log, model, adapter, request, allow_unerased)
    with progress() as bar:
        results = reprobe(log, model, adapter, targets, phases(bar))
    tested = targets.tested
    table = Table(title=f"Re-probe of {describe_tested(tested)}")
    for column in ("request", "views", "answers", "leaks", "forgotten"):
        table.add_column(column, no_wrap=True)
    for r in results:
        for split, m in r["metrics"].items():
            table.add_row(r["request_id"], split, str(m["answers"]), f"{m['leak_rate']:.0%}",
                          "[green]yes[/]" if r["forgotten"] else "[red]NO[/]")
    console.print(table)
    for request_id, why in targets.unverifiable.items():
        console.print(f"[yellow]{request_id} cannot be re-probed[/]: {why} (not counted as verified)")
    console.print("Recorded as signed verification entries in the audit log.")
    if not tested["carries_erasure"]:
        console.print("This model carries no erasure (--allow-unerased): leaks here are expected and prove nothing.")
    elif not all(r["forgotten"] for r in results):
        raise typer.Exit(2)
