"""`forgetctl audit`: read, export and shred the audit trail."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from forgetctl.cli.ui import console
from forgetctl.config import forgetctl_home
from forgetctl.errors import AuditError
from forgetctl.trail import request_states, run_status
from forgetctl_audit.keys import Keyring
from forgetctl_audit.store import AuditLog

app = typer.Typer(help="List, show, export and shred audit records.")


def open_existing_log() -> AuditLog:
    home = forgetctl_home()
    if not Keyring(home / "keys").initialised:
        raise AuditError(f"no audit trail in {home} (set FORGETCTL_HOME, or run `forgetctl keys init`)")
    return AuditLog(home)


@app.command("list")
def list_requests():
    """Every request with its dates, deadline and the state of its runs."""
    log = open_existing_log()
    table = Table(title="Erasure requests")
    for column in ("request", "received", "deadline"):
        table.add_column(column, no_wrap=True)
    for column in ("grounds", "runs", "evidence"):
        table.add_column(column, overflow="fold")
    for request_id, state in request_states(log).items():
        body = state["request"]["body"] if state["request"] else {}
        runs = ", ".join(run_status(r) for r in state["runs"].values()) or "none"
        table.add_row(
            request_id, body.get("received", "?"), body.get("deadline", "?"), body.get("grounds", "?"),
            runs, "shredded" if state["shredded"] else "encrypted",
        )
    console.print(table)
    log.close()


@app.command("show")
def show(request_id: str = typer.Argument(..., help="Request id (see `forgetctl audit list`).")):
    """Every record of one request, with decrypted evidence unless it was shredded."""
    log = open_existing_log()
    records = log.records(request_id)
    if not records:
        raise AuditError(f"no request {request_id} in the audit log")
    for record in records:
        console.rule(f"#{record['seq']} {record['kind']}  {record['time']}")
        console.print_json(json.dumps(record["body"]))
        for item in record["evidence"]:
            value = log.evidence(request_id, item["id"])
            console.print(f"[dim]evidence {item['id']}:[/] " + ("[red]shredded[/]" if value is None else ""))
            if value is not None:
                console.print_json(json.dumps(value))
    log.close()


@app.command("shred")
def shred(
    request_id: str = typer.Argument(..., help="Request whose evidence to destroy."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
):
    """Destroy a request's data key: its evidence becomes unreadable; the log still verifies."""
    if not yes and not typer.confirm(f"Destroy the evidence of {request_id} for good?"):
        raise typer.Exit(1)
    log = open_existing_log()
    seq = log.shred(request_id)
    console.print(f"Shredded the data key of {request_id}; recorded as #{seq}")
    log.close()


@app.command("head")
def head(out: Path = typer.Option(..., "--out", help="Where to write the signed tree head (JSON).")):
    """Sign and export the current tree head. Keep it outside this machine: `verify --against` it later."""
    log = open_existing_log()
    envelope = log.sign_tree_head()
    out.write_text(json.dumps(envelope, indent=2) + "\n")
    console.print(f"Wrote the signed tree head over {len(log.leaves())} records to {out}")
    log.close()


@app.command("export")
def export(
    request_id: str = typer.Argument(..., help="Request to report on."),
    format: str = typer.Option("html", "--format", help="html or json."),
    out: Path = typer.Option(..., "--out", help="File to write."),
):
    """A report a DPO can read and an auditor can verify; no personal data in plaintext."""
    from forgetctl.report import build_report, render_html

    if format not in ("html", "json"):
        raise AuditError(f"--format must be html or json, not {format!r}")
    log = open_existing_log()
    report = build_report(log, request_id, log.keyring.public_bundle())
    log.close()
    text = render_html(report) if format == "html" else json.dumps(report, indent=2) + "\n"
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text(text)
    tmp.replace(out)
    console.print(f"Wrote the {format} report for {request_id} to {out}")
