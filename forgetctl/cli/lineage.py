"""`forgetctl lineage`: the deployable model versions, and which erasures each carries.

Both commands read the lineage from a log that verifies and re-hash the head's folder against its
signed record before naming it: a changed file is named, and nothing is advised for deployment.
"""

import typer
from rich.markup import escape
from rich.table import Table

from forgetctl.cli.audit import open_existing_log
from forgetctl.cli.ui import console, err_console
from forgetctl.errors import ExitCode, InputError

app = typer.Typer(help="The model versions erasures produced, and the one to deploy.", rich_markup_mode="markdown")


def lineage():
    from forgetctl.lineage import Lineage

    log = open_existing_log(readonly=True)
    try:
        return Lineage.from_log(log)
    finally:
        log.close()


def head_problem(head) -> str | None:
    """Why the head's folder is not the release it was signed as, or None."""
    from forgetctl.lineage import check_release_folder

    try:
        check_release_folder(head)
    except InputError as exc:
        return str(exc)
    return None


def unrecorded_folders(found) -> list:
    """Folders under FORGETCTL_HOME/releases that no release record names: a run killed after it
    merged and before it recorded (never a version; shown so nobody deploys one by mistake)."""
    from forgetctl.config import forgetctl_home

    releases = forgetctl_home() / "releases"
    known = {v.path for v in found.versions.values()}
    return sorted(p for p in releases.iterdir() if p.is_dir() and str(p) not in known) if releases.is_dir() else []


@app.command("list")
def list_versions():
    """Every release: version, parent, date, requests erased, and where it lives."""
    found = lineage()
    for folder in unrecorded_folders(found):
        err_console.print(f"[yellow]{escape(str(folder))} is not a release[/] (no release record names it: a run "
                          "stopped before recording it); do not deploy it, delete it")
    if not found.versions:
        console.print("No releases yet: an erasure that passes its policy writes one.")
        return
    problems = []
    for root, path in found.roots.items():
        head = found.head(root)
        problem = head_problem(head) if head else None
        # 80 columns: the folders go below the table, one per version, instead of a squeezed column.
        table = Table(title=f"Lineage of {root}")
        table.add_column("version", no_wrap=True)
        table.add_column("from", no_wrap=True)
        table.add_column("released", no_wrap=True)
        table.add_column("erasures", overflow="fold")
        folders = [f"  {root}  {escape(path)} (original base)"]
        for v in found.releases(root):
            mark = " [yellow]fork[/]" if v.fork else ""
            if head and v.version == head.version:
                mark = " [red]head: CHANGED[/]" if problem else " [green]head[/]"
            table.add_row(v.version + mark, v.parent, v.time[:10], f"{len(v.erased)}: +{', '.join(v.added)}")
            folders.append(f"  {v.version}  {escape(v.path)}")
        console.print(table)
        console.print("Folders:\n" + "\n".join(folders))
        if problem:
            problems.append(problem)
    for problem in problems:
        err_console.print(f"[red]{escape(problem)}[/]")
    if problems:
        raise typer.Exit(ExitCode.CHECK_FAILED)


@app.command("head")
def show_head():
    """The version a serving team should deploy: the newest carrying every erasure of its lineage,
    after re-hashing its folder against its signed release record."""
    found = lineage()
    if not found.versions:
        console.print("No releases yet.")
        raise typer.Exit(ExitCode.ERROR)
    for root in found.roots:
        head = found.head(root)
        if head is None:
            console.print(f"[red]No version of lineage {root} carries every erasure[/] (forks went separate ways): "
                          "erase the missing requests from one of them.")
            raise typer.Exit(ExitCode.CHECK_FAILED)
        problem = head_problem(head)
        if problem:
            err_console.print(f"[red]Do not deploy:[/] {escape(problem)}")
            raise typer.Exit(ExitCode.CHECK_FAILED)
        console.print(f"Deploy [bold]{escape(head.path)}[/] (version {head.version}, {len(head.erased)} erasure{'s' if len(head.erased) != 1 else ''}, "
                      f"released {head.time[:10]}; its files match the signed release record)")
