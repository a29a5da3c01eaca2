"""`forgetctl keys`: the audit trail's signing keys."""

import os

import typer
from rich.markup import escape
from rich.table import Table

from forgetctl.cli.ui import console
from forgetctl.config import forgetctl_home
from forgetctl.errors import AuditError
from forgetctl_audit.keys import PASSPHRASE_VARIABLE, Keyring

app = typer.Typer(help="Create, show and rotate the audit trail's signing keys.", rich_markup_mode="markdown")
PASSPHRASE_HELP = f"Encrypt the private key with the passphrase in ${PASSPHRASE_VARIABLE}."


def keyring() -> Keyring:
    return Keyring(forgetctl_home() / "keys")


def passphrase(use: bool) -> str | None:
    if not use:
        return None
    value = os.environ.get(PASSPHRASE_VARIABLE)
    if not value:
        raise AuditError(f"--passphrase needs the passphrase in ${PASSPHRASE_VARIABLE}")
    return value


@app.command("init")
def init(use_passphrase: bool = typer.Option(False, "--passphrase", help=PASSPHRASE_HELP)):
    """Create the signing key, the master key and the subject-hash secret (files mode 0600)."""
    from forgetctl_audit.store import AuditLog

    ring = keyring()
    kid = ring.init(passphrase(use_passphrase))
    with AuditLog(forgetctl_home()) as log:
        log.append("key", None, log.key_body(kid, None))  # the root: every later key chains from it
        fp = log.root_fingerprint()
    console.print(f"Created signing key [bold]{kid}[/] in {escape(str(ring.root))}")
    console.print(f"Root fingerprint (give it to your auditors, out of band):\n  [bold]{fp}[/]")


@app.command("rotate")
def rotate(use_passphrase: bool = typer.Option(False, "--passphrase", help=PASSPHRASE_HELP)):
    """Start signing with a new key, announced by a record the old key signs; the old private
    key is then destroyed, so nothing can sign as it again."""
    from forgetctl.cli.audit import open_existing_log

    with open_existing_log() as log:
        kid = log.rotate_key(passphrase(use_passphrase))
        root = log.root_fingerprint()
    console.print(f"Now signing with [bold]{kid}[/]; the previous private key was destroyed. The root fingerprint "
                  f"auditors pin is unchanged:\n  [bold]{root}[/]")


@app.command("show")
def show():
    """The log's key chain: the root (its fingerprint is what auditors pin) and each rotation."""
    from forgetctl.cli.audit import open_existing_log

    with open_existing_log(readonly=True) as log:
        records = log.key_records()
    table = Table(title="Audit signing keys, as the log announces them")
    for column in ("record", "key id", "status", "announced"):
        table.add_column(column)
    for i, record in enumerate(records):
        status = "active" if i == len(records) - 1 else "retired"
        role = "root" if i == 0 else f"replaces {record['body']['replaces']}"
        table.add_row(f"#{record['seq']}", record["body"]["key_id"], f"{status} ({role})", record["time"][:10])
    console.print(table)
    if records:
        console.print(f"Root fingerprint: {records[0]['body']['fingerprint']}")
