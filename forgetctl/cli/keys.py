"""`forgetctl keys`: the audit trail's signing keys."""

from pathlib import Path

import typer
from rich.table import Table

from forgetctl.cli.ui import console
from forgetctl.config import forgetctl_home
from forgetctl.errors import AuditError
from forgetctl_audit.keys import PASSPHRASE_VARIABLE, Keyring

app = typer.Typer(help="Create, show, export and rotate the audit trail's signing keys.")
PASSPHRASE_HELP = f"Encrypt the private key with the passphrase in ${PASSPHRASE_VARIABLE}."


def keyring() -> Keyring:
    return Keyring(forgetctl_home() / "keys")


def passphrase(use: bool) -> str | None:
    import os

    if not use:
        return None
    value = os.environ.get(PASSPHRASE_VARIABLE)
    if not value:
        raise AuditError(f"--passphrase needs the passphrase in ${PASSPHRASE_VARIABLE}")
    return value


@app.command("init")
def init(use_passphrase: bool = typer.Option(False, "--passphrase", help=PASSPHRASE_HELP)):
    """Create the signing key, the master key and the subject-hash secret (files mode 0600)."""
    kid = keyring().init(passphrase(use_passphrase))
    console.print(f"Created signing key [bold]{kid}[/] in {keyring().root}")


@app.command("rotate")
def rotate(use_passphrase: bool = typer.Option(False, "--passphrase", help=PASSPHRASE_HELP)):
    """Start signing with a new key; old public keys stay, so old records still verify."""
    kid = keyring().rotate(passphrase(use_passphrase))
    console.print(f"Now signing with [bold]{kid}[/]; earlier keys remain for verification")


@app.command("show")
def show():
    """List the signing keys: which one is active, which are kept for verification."""
    ring = keyring()
    active = ring.active_key_id()
    table = Table(title=f"Audit keys in {ring.root}")
    for column in ("key id", "status"):
        table.add_column(column)
    for kid in ring.public_keys():
        table.add_row(kid, "active" if kid == active else "verification only")
    console.print(table)


@app.command("export-public")
def export_public(out: Path = typer.Option(None, "--out", help="Write the PEM bundle here instead of stdout.")):
    """Every public key (PEM, each preceded by its key id) for auditors who verify independently."""
    bundle = keyring().public_bundle()
    if out:
        out.write_text(bundle)
        console.print(f"Wrote public keys to {out}")
    else:
        typer.echo(bundle, nl=False)
