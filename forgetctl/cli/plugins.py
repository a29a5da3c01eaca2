"""`forgetctl plugins`: what is loaded, from which plugin and version."""

import json

import typer
from rich.table import Table

from forgetctl.cli.ui import console
from forgetctl.host.manager import create_host


def list_plugins(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """List every loaded plugin with its version, the hooks it implements and what it registers."""
    host = create_host()
    registered = {**host.methods(), **host.judges()}
    rows = host.plugins()
    for row in rows:
        row["registers"] = sorted(r.name for r in registered.values() if r.plugin == row["name"])
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="forgetctl plugins")
    for column in ("plugin", "version", "hooks", "registers"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["version"], ", ".join(row["hooks"]), ", ".join(row["registers"]))
    console.print(table)
