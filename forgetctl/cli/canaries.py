"""`forgetctl canaries`: people every later erasure on a lineage asks again, so that one it
forgets on the side fails the run that did it."""

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from forgetctl.cli.audit import open_existing_log, shred_confirmed
from forgetctl.cli.ui import console, err_console, phase_progress
from forgetctl.errors import InputError

app = typer.Typer(help="Register bystanders every erasure on a lineage re-checks.", rich_markup_mode="markdown")


@app.command("add")
def add(
    photos: Path = typer.Argument(..., help="A folder with one sub-folder of photos per canary person."),
    model: Path = typer.Option(None, "--model", metavar="DIR", help="The lineage's original base (default: the demo model)."),
):
    """Ask the original base about each canary photo and keep photos and answers encrypted in
    the audit log. Every later erasure on this lineage asks them again and fails its policy
    (`canary_drop_max`) if one moved; no erasure trains on them."""
    from forgetctl.canaries import read_canaries, register
    from forgetctl.config import forgetctl_home
    from forgetctl.demo import demo_model_dir
    from forgetctl.engine.families import inspect_model_dir
    from forgetctl.reporting import Reporter
    from forgetctl.trail import open_log

    model_dir = Path(model or demo_model_dir()).expanduser().resolve()
    # Bad photos or an unsupported model folder are refused before the log is touched.
    people = read_canaries(photos)
    inspect_model_dir(model_dir)
    with open_log(forgetctl_home(), announce=lambda m: err_console.print(escape(m))) as log:
        with phase_progress() as phase:
            found = register(log, model_dir, people, Reporter(phase=phase))
    console.print(f"Registered canary set [bold]{found['id']}[/]: {found['people']} people, {found['photos']} photos, "
                  f"for the lineage of {escape(str(model_dir))}. Every erasure on it now asks them again.")


@app.command("list")
def list_sets():
    """The canary sets, the lineage root each belongs to, and whether it was removed."""
    from forgetctl.canaries import canary_sets

    with open_existing_log(readonly=True) as log:
        sets = canary_sets(log)
    if not sets:
        console.print("No canaries registered: `forgetctl canaries add PHOTOS/ --model BASE`.")
        return
    table = Table(title="Canary sets")
    for column in ("set", "lineage root", "people", "photos", "state"):
        table.add_column(column, no_wrap=True)
    for s in sets:
        table.add_row(s["id"], s["root"][:12], str(s["people"]), str(s["photos"]),
                      "[yellow]removed[/]" if s["removed"] else f"since {s['time'][:10]}")
    console.print(table)


@app.command("remove")
def remove(
    set_id: str = typer.Argument(..., help="The canary set (canaries list)."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
):
    """Shred a canary set's data key for good: its photos and answers become unreadable and no
    later erasure asks them again. The log still verifies."""
    from forgetctl.trail import is_canary_set

    if not is_canary_set(set_id):
        raise InputError(f"{set_id!r} is not a canary set id (they begin with 'canaries-'; see `forgetctl canaries list`)")
    seq, already = shred_confirmed(set_id, f"Destroy canary set {set_id} for good?", yes)
    console.print(f"{set_id} was already removed (record #{seq})" if already else f"Removed canary set {set_id}; recorded as #{seq}")
