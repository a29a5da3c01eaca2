"""`forgetctl plugins`: what is loaded, from which plugin and version."""

import json

import typer
from rich.table import Table

from forgetctl.cli.ui import console
from forgetctl.host.manager import create_host


def list_plugins(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """List every loaded plugin with its version, the hooks it implements and what it registers."""
    host = create_host()
    configurable = {**host.methods(), **host.attacks(), **host.judges()}  # each declares typed Options
    metrics = host.metrics()
    registered = {**configurable, **metrics}
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
    kinds = {"methods": host.methods(), "judges": host.judges(), "attacks": host.attacks()}
    for kind, entries in kinds.items():
        table = Table(title=f"{kind.capitalize()} (--{kind[:-1]})")
        table.add_column(kind[:-1], no_wrap=True)
        table.add_column("plugin", no_wrap=True)
        table.add_column("options (KEY=VALUE) and defaults")
        for name in sorted(entries):
            entry = entries[name]
            row = next(r for r in rows if r["name"] == entry.plugin)
            options = "\n".join(
                f"{field}={info['default']}" + (f" [dim]{info['meaning']}[/]" if info["meaning"] else "")
                for field, info in row["options"].get(name, {}).items()
            )
            table.add_row(f"[bold]{name}[/]", f"{entry.plugin} {row['version']}", options or "-")
        console.print(table)
    if metrics:
        table = Table(title="Site metrics (measured on every run; a policy bounds them by their check)")
        for column in ("metric", "plugin", "meaning and check"):
            table.add_column(column, no_wrap=column != "meaning and check")
        for name in sorted(metrics):
            entry, declared = metrics[name], metrics[name].cls.metric
            version = next(r["version"] for r in rows if r["name"] == entry.plugin)
            check = f" [dim]({declared.better} is better; check {declared.check})[/]" if declared.check else ""
            table.add_row(f"[bold]{declared.key}[/] ({declared.scope})", f"{entry.plugin} {version}", declared.meaning + check)
        console.print(table)
    idle = [r for r in rows if not r["registers"]]
    if idle:
        console.print("Loaded, registering nothing: " + ", ".join(f"{r['name']} {r['version']}" for r in idle))
