"""`forgetctl lineage`: the deployable model versions, and which erasures each carries.

Every command reads the lineage from a log that verifies and re-hashes a folder against its
signed record before naming it: a changed file is named, and nothing is advised for deployment.
`prune` deletes old merged copies that their chain can rebuild; `rebuild` makes one again.
"""

import shutil
import uuid
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from forgetctl.cli.audit import open_existing_log
from forgetctl.cli.ui import console, err_console
from forgetctl.errors import ExitCode, InputError

app = typer.Typer(help="The model versions erasures produced, and the one to deploy.", rich_markup_mode="markdown")


def lineage():
    from forgetctl.lineage import Lineage

    with open_existing_log(readonly=True) as log:
        return Lineage.from_log(log)


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
            if v.pruned and not Path(v.path).is_dir():
                table.add_row(v.version + " [dim]pruned[/]", v.parent, v.time[:10], f"{len(v.erased)}: +{', '.join(v.added)}")
                folders.append(f"  {v.version}  pruned (`forgetctl lineage rebuild {v.version}`)")
                continue
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


@app.command("prune")
def prune(
    keep: int = typer.Option(..., "--keep", min=1, help="Merged versions to keep per lineage (the head always among them)."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
):
    """Delete old merged copies: each pruned version stays rebuildable from the original base and
    the adapters (`forgetctl lineage rebuild`), and the pruning is recorded. Versions that could
    not be rebuilt (an adapter missing or changed, a folder that is not its release) are kept."""
    from forgetctl.chain import carry_out, folder_bytes, plan_prune
    from forgetctl.config import forgetctl_home
    from forgetctl.lineage import Lineage

    home = forgetctl_home()
    with open_existing_log() as log:
        found = Lineage.from_log(log)
        plans = [plan_prune(found, root, keep, home) for root in found.roots]
        for plan in plans:
            for version, why in plan.unprunable:
                err_console.print(f"[yellow]kept {version.version}[/]: {escape(why)}")
        doomed = [v for plan in plans for v in plan.prune]
        if not doomed:
            console.print(f"Nothing to prune: no merged version beyond the {keep} kept per lineage can be rebuilt "
                          "from its chain.")
            return
        freed = sum(folder_bytes(Path(v.path)) for v in doomed)
        if not yes and not typer.confirm(f"Delete {len(doomed)} merged version(s), {freed / 2**20:.1f} MiB?"):
            raise typer.Exit(ExitCode.ERROR)
        seqs = carry_out(log, found, plans, keep)
    console.print(f"Pruned {len(doomed)} version{'s' if len(doomed) != 1 else ''} ({freed / 2**20:.1f} MiB freed); "
                  f"recorded as #{', #'.join(map(str, seqs))}. Rebuild one with `forgetctl lineage rebuild VERSION`.")


@app.command("rebuild")
def rebuild(
    version: str = typer.Argument(..., help="The version to make again (as `lineage list` prints it)."),
    out: Path = typer.Option(None, "--out", help="Where to write it (default: where it was released)."),
):
    """Merge a version's chain again, from its nearest kept ancestor, and check every file against
    its signed release record. Written to OUT only if they match; otherwise the files that differ
    are named and nothing is kept."""
    from forgetctl.chain import plan_rebuild
    from forgetctl.cli.ui import phase_progress
    from forgetctl.config import forgetctl_home
    from forgetctl.fingerprint import directory_hashes
    from forgetctl.lineage import differences, first_differences

    found = lineage()
    target = found.versions.get(version)
    if target is None:
        raise InputError(f"no release {version} in this audit log (`forgetctl lineage list` shows them)")
    out = (out or Path(target.path)).expanduser().resolve()
    if out.exists():
        raise InputError(f"{out} already exists; choose another --out, or move it away")
    plan = plan_rebuild(found, target, forgetctl_home())
    console.print(f"Rebuilding {version} from {escape(str(plan.start))} and {len(plan.adapters)} adapter(s)")
    from forgetctl.engine.release import rebuild as merge_chain

    # Merged beside OUT under another name (atomically), and renamed to OUT only if it matches.
    scratch = out.parent / f".{out.name}.rebuild-{uuid.uuid4().hex[:6]}"
    try:
        with phase_progress() as phase:
            device = merge_chain(plan.start, list(plan.adapters), target.adapter["dtype"], scratch,
                                 phase("Merging the chain", len(plan.adapters)))
        changed = differences(target.files, directory_hashes(scratch))
        if not changed:
            scratch.rename(out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if changed:
        merged_on = f"{target.adapter['dtype']} on {target.adapter['device']}"
        err_console.print(f"[red]The rebuild is not release {version}[/]: {escape(first_differences(changed))} "
                          f"(merged in {merged_on}, rebuilt on {device}). Nothing was kept; rebuild on a machine like "
                          "the one that released it")
        raise typer.Exit(ExitCode.CHECK_FAILED)
    console.print(f"Rebuilt {version} at [bold]{escape(str(out))}[/]; its {len(target.files)} files match the "
                  "signed release record")
