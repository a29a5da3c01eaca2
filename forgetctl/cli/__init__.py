"""The `forgetctl` command: thin commands that parse, call the library, and render."""

import os
import sys

import typer
from rich.markup import escape

from forgetctl import __version__
from forgetctl.cli import audit, bench, canaries, demo, erase, keys, lineage, models, plugins, verify
from forgetctl.cli.ui import err_console
from forgetctl.errors import ForgetctlError, explain

# Locals in tracebacks could print personal data (names, answers): never show them.
app = typer.Typer(
    name="forgetctl",
    help="Erase a person's private facts from a LLaVA-style model, measure it, and prove it.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",  # docstrings reflow to the terminal's width
)
app.command("erase", epilog=erase.EXIT_CODES)(erase.erase_command)
app.command("verify")(verify.verify_command)
app.add_typer(audit.app, name="audit")
app.add_typer(keys.app, name="keys")
app.add_typer(lineage.app, name="lineage")
app.add_typer(canaries.app, name="canaries")
app.add_typer(demo.app, name="demo")
app.add_typer(bench.app, name="bench")
app.command("plugins")(plugins.list_plugins)
app.command("models")(models.list_models)


def _version(value: bool):
    if value:
        typer.echo(f"forgetctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
):
    """Erase a person's private facts from a LLaVA-style model, measure it, and prove it."""


def quiet_libraries() -> None:
    """Our own progress bars say what is happening; the libraries' per-load bars and a peft
    deprecation warning on every run only bury them."""
    import warnings

    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


def main(argv: list[str] | None = None) -> None:
    """Entry point: domain errors become one red line and exit code 1 (FORGETCTL_DEBUG=1 for a traceback)."""
    quiet_libraries()
    os.umask(0o077)  # everything forgetctl writes (database, keys, runs, reports) is its owner's alone
    try:
        app(args=argv, prog_name="forgetctl")
    except Exception as exc:  # the one error boundary: what a user can fix is one line, exit 1
        message = str(exc) if isinstance(exc, ForgetctlError) else explain(exc)
        if message is None or os.environ.get("FORGETCTL_DEBUG") == "1":
            raise
        err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
        sys.exit(1)
