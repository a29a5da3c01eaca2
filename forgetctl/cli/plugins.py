"""`forgetctl plugins`: what is loaded, from which plugin and version."""

import json

import typer
from rich.table import Table

from forgetctl.cli.ui import console
from forgetctl.host.manager import create_host


def list_plugins(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """List every loaded plugin with its version, the hooks it implements and what it registers."""
    host = create_host()
    configurable = {**host.methods(), **host.attacks()}  # both declare typed Options
    registered = {**configurable, **host.judges()}
    rows = host.plugins()
    for row in rows:
        row["registers"] = sorted(r.name for r in registered.values() if r.plugin == row["name"])
        row["options"] = {
            name: {field: {"default": info.default, "meaning": info.description}
                   for field, info in configurable[name].cls.Options.model_fields.items()}
            for name in row["registers"] if name in configurable
        }
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="forgetctl plugins")
    table.add_column("plugin", no_wrap=True)
    table.add_column("registers, with its options (KEY=VALUE) and defaults")
    for row in rows:
        for i, name in enumerate(row["registers"] or ["(nothing)"]):
            options = "".join(
                f"\n  {field}={info['default']}" + (f" [dim]{info['meaning']}[/]" if info["meaning"] else "")
                for field, info in row["options"].get(name, {}).items()
            )
            table.add_row(f"{row['name']} {row['version']}" if i == 0 else "", f"[bold]{name}[/]{options}")
    console.print(table)
