"""`forgetctl demo`: the embedded demo world — its people, their portraits, and the main job on them."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from forgetctl.cli.ui import console
from forgetctl.config import forgetctl_home
from forgetctl.demo.portraits import write_views
from forgetctl.demo.world import describe, load_world
from forgetctl.errors import ExitCode, InputError

app = typer.Typer(help="The embedded demo world: fictitious people and a tiny LLaVA that knows them.", rich_markup_mode="markdown")


def _person(name: str | None):
    world = load_world()
    if name is None:
        return world.known[0]
    try:
        return world.person(name)
    except KeyError:
        raise InputError(f"no demo person called {name!r}; `forgetctl demo people` lists them") from None


DEMO_RETAIN_PEOPLE = 4


@app.callback(invoke_without_command=True)
def run_demo(
    ctx: typer.Context,
    person: str = typer.Option(None, "--person", help="Demo person's name or id (default: the first)."),
    method: str = typer.Option("pubg", "--method", help="Unlearning method."),
):
    """Run the main job on the demo model: write a person's photos, erase them, show before/after."""
    if ctx.invoked_subcommand is not None:
        return
    import tempfile

    from forgetctl.cli.erasing import exit_code, render_outcome, run_with_progress
    from forgetctl.demo import demo_model_dir
    from forgetctl.request import PersonForm, RequestForm, validate

    subject = _person(person)
    # The photos live only for the run: the evidence keeps them (encrypted), so no plaintext copy
    # of the person stays behind under FORGETCTL_HOME.
    with tempfile.TemporaryDirectory(prefix="forgetctl-demo-") as tmp:
        workdir = Path(tmp)
        write_views(subject, workdir / "photos")
        for other in load_world().unlike(subject, DEMO_RETAIN_PEOPLE):
            write_views(other, workdir / "retain" / other.id)
        console.print(
            f"Erasing [bold]{subject.name}[/] from the demo model ({method})\n"
            f"Visible in the photos: {describe(subject.looks)}"
        )
        # The demo can run again and again from the same base: it writes no release (a real
        # erase does, and the next one starts from it).
        form = RequestForm(
            people=[PersonForm(subject.name, workdir / "photos", subject.biography())], method=method,
            retain=workdir / "retain", requester_ref="forgetctl demo", release=False, fork=True,
        )
        outcome = run_with_progress(validate(form, default_model=demo_model_dir(), home=forgetctl_home()))
    render_outcome(outcome, method)
    console.print("(The demo keeps the adapter only; `forgetctl erase` also writes a deployable release.)")
    if exit_code(outcome) != ExitCode.OK:
        raise typer.Exit(exit_code(outcome))


@app.command("people")
def people():
    """List the demo world's known people, their private facts and what is visible in their photos."""
    table = Table(title="Demo world: known people (all fictitious)")
    table.add_column("id", no_wrap=True)
    table.add_column("who they are, and what their photos show")
    for p in load_world().known:
        table.add_row(p.id, f"[bold]{p.name}[/], {p.profession}, born {p.birth_year} in {p.birthplace}, won {p.award}\n"
                      f"[dim]{describe(p.looks)}[/]")
    console.print(table)


@app.command("images")
def images(
    out: Path = typer.Option(..., "--out", help="Folder to write the PNG portraits into."),
    person: str = typer.Option(None, "--person", help="Demo person's name or id (default: the first)."),
    unknown: str = typer.Option(None, "--unknown", help="Write a stranger's portraits instead (id u001..)."),
):
    """Write a person's portraits as PNG files, to use with `forgetctl erase --images DIR`."""
    if unknown is not None:
        strangers = {s.id: s for s in load_world().strangers}
        if unknown not in strangers:
            raise InputError(f"no stranger with id {unknown!r}; ids run from u001 to u{len(strangers):03d}")
        subject, label = strangers[unknown], f"stranger {unknown}"
    else:
        subject = _person(person)
        label = subject.name
    paths = write_views(subject, out)
    console.print(f"Wrote {len(paths)} portraits of {label} to [cyan]{escape(str(out))}[/]")
