"""`forgetctl lineage`: the deployable model versions, and which erasures each carries."""

import typer
from rich.table import Table

from forgetctl.cli.audit import open_existing_log
from forgetctl.cli.ui import console
from forgetctl.errors import ExitCode

app = typer.Typer(help="The model versions erasures produced, and the one to deploy.", rich_markup_mode="markdown")


def lineage():
    from forgetctl.lineage import Lineage

    log = open_existing_log(readonly=True)
    try:
        verdicts = {r["body"]["run"]: r["kind"] for r in log.records() if r["kind"] == "erasure"}
        return Lineage.from_log(log), verdicts
    finally:
        log.close()


@app.command("list")
def list_versions():
    """Every release: version, parent, date, requests erased, and where it lives."""
    found, verdicts = lineage()
    if not found.versions:
        console.print("No releases yet: an erasure that passes its policy writes one.")
        return
    for root, path in found.roots.items():
        head = found.head(root)
        table = Table(title=f"Lineage of {root} ({path})")
        for column in ("version", "parent", "date", "erased"):
            table.add_column(column, no_wrap=True)
        table.add_column("where", overflow="fold")
        for v in found.releases(root):
            mark = " [green](head)[/]" if head and v.version == head.version else (" [yellow](fork)[/]" if v.fork else "")
            table.add_row(v.version + mark, v.parent, v.time[:10], f"{len(v.erased)}: +{', '.join(v.added)}", v.path)
        console.print(table)


@app.command("head")
def show_head():
    """The version a serving team should deploy: the newest carrying every erasure of its lineage."""
    found, _ = lineage()
    if not found.versions:
        console.print("No releases yet.")
        raise typer.Exit(1)
    for root in found.roots:
        head = found.head(root)
        if head is None:
            console.print(f"[red]No version of lineage {root} carries every erasure[/] (forks went separate ways): "
                          "erase the missing requests from one of them.")
            raise typer.Exit(ExitCode.CHECK_FAILED)
        console.print(f"Deploy [bold]{head.path}[/] (version {head.version}, {len(head.erased)} erasures, released {head.time[:10]})")
