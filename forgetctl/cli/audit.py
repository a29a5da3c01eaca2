"""`forgetctl audit`: read, export and shred the audit trail."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from forgetctl.cli.ui import console
from forgetctl.config import forgetctl_home
from forgetctl.errors import AuditError, InputError, unknown_name
from forgetctl.trail import Outcome, close_request, request_states
from forgetctl_audit.keys import Keyring
from forgetctl_audit.report_statements import CLOSE_REASONS, INCOMPLETE, run_status
from forgetctl_audit.store import AuditLog, check_request_id

app = typer.Typer(help="List, show, export and shred audit records.", rich_markup_mode="markdown")


def open_existing_log(readonly: bool = False) -> AuditLog:
    """The audit log under FORGETCTL_HOME; `readonly` for commands that only read (they then work
    on a read-only copy of the trail too)."""
    home = forgetctl_home()
    if not Keyring(home / "keys").initialised or not (home / "audit.db").exists():
        raise AuditError(f"no audit trail in {home} (set FORGETCTL_HOME, or run `forgetctl keys init`)")
    return AuditLog(home, readonly=readonly)


def write_atomically(out: Path, content: str | bytes) -> None:
    """A new file in the target folder (mkstemp: never a path someone planted), then renamed over
    `out`: a reader sees the old file or the whole new one, nothing in between."""
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist; create it or choose another --out")
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb" if isinstance(content, bytes) else "w") as f:
            f.write(content)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_head(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read tree head {path}: {exc}") from None


# Run outcomes, short enough for an 80-column table.
RUN_LABELS = {Outcome.ERASURE: "erasure", Outcome.POLICY_FAILED: "failed policy", Outcome.FAILED: "failed",
              Outcome.INTERRUPTED: "interrupted", Outcome.NOT_IDENTIFIABLE: "not identified",
              INCOMPLETE: "running or killed"}


def request_rows(log: AuditLog, today: dt.date) -> list[dict]:
    """One row per request: dates, days left to the Art. 12(3) deadline, runs, evidence."""
    rows = []
    for request_id, state in request_states(log).items():
        body = state["request"]["body"] if state["request"] else {}
        runs = [run_status(r) for r in state["runs"].values()]
        erased = Outcome.ERASURE in runs
        # Answered without erasing: the model never identified the person, nothing was held.
        closed = erased or Outcome.NOT_IDENTIFIABLE in runs or state["closed"] is not None
        deadline = body.get("deadline")
        left = (dt.date.fromisoformat(deadline) - today).days if deadline else None
        # An interrupted run leaves its request open (the Art. 12(3) clock still runs), said as such.
        standing = ("erased" if erased else f"closed: {state['closed']['body'].get('reason')}" if state["closed"]
                    else "not identified" if closed else "overdue" if left is not None and left < 0
                    else "interrupted" if runs and runs[-1] == Outcome.INTERRUPTED else "open")
        rows.append({
            "request_id": request_id, "received": body.get("received"), "deadline": deadline,
            "days_left": None if closed else left, "state": standing,
            "runs": runs, "evidence": "shredded" if state["shredded"] else "encrypted",
            "requester_ref_hash": body.get("requester_ref_hash"),
        })
    return rows


@app.command("list")
def list_requests(
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines instead of a table."),
    requester_ref: str = typer.Option(None, "--requester-ref", metavar="REF", help="Only the request with this reference."),
    overdue: bool = typer.Option(False, "--overdue", help="Only requests past their deadline and not erased."),
):
    """Every request with its dates, days left to the Art. 12(3) deadline, and its runs."""
    with open_existing_log(readonly=True) as log:
        rows = request_rows(log, dt.date.today())
        if requester_ref:
            wanted = log.keyed_hash("requester-ref", requester_ref)
            rows = [r for r in rows if r["requester_ref_hash"] == wanted]
    if overdue:
        rows = [r for r in rows if r["state"] == "overdue"]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    if not rows:
        console.print("No requests match." if (requester_ref or overdue) else
                      "No requests yet: `forgetctl erase --entity NAME --images DIR` opens one.")
        return
    table = Table(title="Erasure requests")
    for column in ("request", "received, due", "left", "runs", "evidence"):
        table.add_column(column, no_wrap=True)
    for r in rows:
        if r["state"] == "erased":
            left = "[green]erased[/]"
        elif r["state"] == "not identified" or r["state"].startswith("closed"):
            left = "closed" if r["state"] == "not identified" else r["state"].replace(": ", "\n")
        elif r["state"] == "overdue":
            left = f"[red]{-r['days_left']} d late[/]"
        else:
            left = f"{r['days_left']} d" + ("\n[yellow]interrupted[/]" if r["state"] == "interrupted" else "")
        runs = "\n".join(RUN_LABELS.get(status, status) for status in r["runs"]) or "none"
        table.add_row(escape(r["request_id"]), f"{r['received'] or '?'}\n{r['deadline'] or '?'}", left, runs, r["evidence"])
    console.print(table)


@app.command("show")
def show(
    request_id: str = typer.Argument(..., help="Request id (see `forgetctl audit list`)."),
    as_json: bool = typer.Option(False, "--json", help="Every record in full, with its decrypted evidence (photos as their size)."),
):
    """One request, one line per signed record: what happened, when, and what it found. With
    --json, the records themselves and their decrypted evidence unless it was shredded."""
    from forgetctl_audit.report_statements import facts

    check_request_id(request_id)
    with open_existing_log(readonly=True) as log:
        records = log.records(request_id)
        if not records:
            raise AuditError(f"no request {request_id} in the audit log")
        if not as_json:
            console.print(f"[bold]{request_id}[/]: {len(records)} signed records")
            console.print(escape(facts(records)), highlight=False)
            items = [item["id"] for record in records for item in record["evidence"]]
            if log.is_shredded(request_id):
                console.print("Evidence: [red]shredded[/] (the data key was destroyed)")
            elif items:
                log.evidence(request_id, items[0])  # an altered or missing key is one red line, here
                console.print(f"Evidence: {len(items)} item(s), encrypted at rest and readable with this machine's keys")
            console.print("`--json` for the records in full and their decrypted evidence.")
            return
        for record in records:
            evidence = {item["id"]: log.evidence(request_id, item["id"]) for item in record["evidence"]}
            typer.echo(json.dumps({**record, "decrypted_evidence": {
                k: "shredded" if v is None else without_photos(v) for k, v in evidence.items()}}, indent=2, ensure_ascii=False))


def without_photos(value):
    """Evidence as a person reads it: each photo as its size and hash, not 40,000 characters of base64."""
    if isinstance(value, dict):
        return {k: (f"<photo, {len(v) * 3 // 4:,} bytes>" if k == "image" and isinstance(v, str) else without_photos(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [without_photos(v) for v in value]
    return value


def shred_confirmed(key_id: str, question: str, yes: bool) -> tuple[int, bool]:
    """Destroy the data key under `key_id` (a request, a canary set) once the user agrees:
    (the shred record's seq, whether it was shredded already)."""
    if not yes and not typer.confirm(question):
        raise typer.Exit(1)
    with open_existing_log() as log:
        return log.shred(key_id)


@app.command("shred")
def shred(
    request_id: str = typer.Argument(..., help="Request whose evidence to destroy."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
):
    """Destroy a request's data key for good: its evidence becomes unreadable, no run can be
    attached to it again, and the log still verifies. Shredding twice changes nothing."""
    check_request_id(request_id)
    seq, already = shred_confirmed(request_id, f"Destroy the evidence of {request_id} for good?", yes)
    if already:
        console.print(f"{request_id} was already shredded (record #{seq}); nothing to do")
    else:
        console.print(f"Shredded the data key of {request_id}; recorded as #{seq}")


@app.command("close")
def close(
    request_id: str = typer.Argument(..., help="The request to close (see `forgetctl audit list`)."),
    reason: str = typer.Option(..., "--reason", metavar="REASON", help=f"Why: {', '.join(CLOSE_REASONS)}."),
    killed: bool = typer.Option(False, "--killed", help="Its last run has no outcome because its process was killed."),
):
    """Close a request nobody will erase (withdrawn, a duplicate, refused under Art. 17(3), or
    opened by mistake): a signed record with the reason; its deadline no longer counts down and
    a later erase of the person opens a new request. An erased request cannot be closed."""
    check_request_id(request_id)
    if reason not in CLOSE_REASONS:
        raise unknown_name("reason", reason, CLOSE_REASONS)
    with open_existing_log() as log:
        seq, already = close_request(log, request_id, reason, killed)
    if already:
        console.print(f"{request_id} was already closed (record #{seq}); nothing to do")
    else:
        console.print(f"Closed {request_id} without erasure ({CLOSE_REASONS[reason]}); recorded as #{seq}")


@app.command("annotate")
def annotate(
    request_id: str = typer.Argument(..., help="Request the record belongs to."),
    seq: int = typer.Argument(..., help="The record to annotate (its # in `audit show`)."),
    note: str = typer.Option(..., "--note", help="What a reader should know about it (no personal data: it is signed in clear)."),
):
    """Add a signed note to a record, such as a verification made by mistake. Records are never
    edited: the note is a new record, and reports show it beside the one it is about."""
    check_request_id(request_id)
    with open_existing_log() as log:
        if not any(r["seq"] == seq for r in log.records(request_id)):
            raise AuditError(f"request {request_id} has no record #{seq}")
        new = log.append("annotation", request_id, {"about": seq, "note": note})
    console.print(f"Annotated #{seq} of {request_id}; recorded as #{new}")


@app.command("head")
def head(out: Path = typer.Option(..., "--out", help="Where to write the signed tree head (JSON).")):
    """Verify the log, then sign and export its tree head. Keep it outside this machine:
    `verify --against` it later, and give it to auditors."""
    with open_existing_log() as log:
        envelope = log.sign_tree_head()
        size = len(log.leaves())
    write_atomically(out, json.dumps(envelope, indent=2) + "\n")
    console.print(f"Wrote the signed tree head over {size} records to {escape(str(out))}")


@app.command("export")
def export(
    request_id: str = typer.Argument(..., help="Request to report on."),
    format: str = typer.Option("html", "--format", help="html, json or pdf."),
    out: Path = typer.Option(..., "--out", help="File to write."),
    since: Path = typer.Option(None, "--since", help="A tree head the auditor already holds: add the proof that the log extends it."),
):
    """A report a DPO can read and an auditor can verify alone (standalone_verify.py with the
    pinned root fingerprint); no personal data in plaintext."""
    from forgetctl.report import build_report, render, render_pdf

    check_request_id(request_id)
    if format not in ("html", "json", "pdf"):
        raise InputError(f"--format must be html, json or pdf, not {format!r}")
    old_head = read_head(since) if since else None
    with open_existing_log() as log:
        report = build_report(log, request_id, old_head)
    write_atomically(out, render_pdf(report) if format == "pdf" else render(report, format))
    console.print(f"Wrote the {format} report for {request_id} to {escape(str(out))}")
