"""`forgetctl plugins`: what is loaded, from which plugin and version."""

import json

import typer
from rich.table import Table

from forgetctl.cli.ui import console
from forgetctl.host.manager import create_host


def list_plugins(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """List every loaded plugin with its version, the hooks it implements and what it registers."""
    host = create_host()
    methods = host.methods()
    registered = {**methods, **host.judges()}
    rows = host.plugins()
    for row in rows:
        row["registers"] = sorted(r.name for r in registered.values() if r.plugin == row["name"])
        row["options"] = {
            name: {field: {"default": info.default, "meaning": info.description}
                   for field, info in methods[name].cls.Options.model_fields.items()}
            for name in row["registers"] if name in methods
        }
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="forgetctl plugins")
    for column in ("plugin", "version", "registers"):
        table.add_column(column, no_wrap=True)
    table.add_column("options (--method-option KEY=VALUE), defaults")
    for row in rows:
        options = "\n".join(
            f"{field}={info['default']}" + (f" [dim]{info['meaning']}[/]" if info["meaning"] else "")
            for per_method in row["options"].values() for field, info in per_method.items()
        )
        table.add_row(row["name"], row["version"], ", ".join(row["registers"]), options or "[dim]none[/]")
    console.print(table)
