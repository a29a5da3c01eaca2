"""A command's flags declared once, as the fields of a frozen dataclass, and handed to the
command as one typed object: the command's body reads `flags.steps`, not forty parameters.

Typer reads a command's parameters from its signature; `command_taking` writes that signature
from the dataclass's fields, each field carrying its typer.Option.
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, field, fields
from functools import wraps
from typing import get_type_hints

import typer


def flag(default, *names: str, **option):
    """A dataclass field that is also a typer option (a list default is copied per use)."""
    factory = (lambda: list(default)) if isinstance(default, list) else MISSING
    kept = MISSING if factory is not MISSING else default
    return field(default=kept, default_factory=factory, metadata={"option": typer.Option(default, *names, **option)})


def command_taking(flags_type):
    """Decorate `body(flags)` into a typer command whose options are the fields of `flags_type`."""
    hints = get_type_hints(flags_type)
    parameters = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.metadata["option"],
                                    annotation=hints[f.name]) for f in fields(flags_type)]

    def wrap(body):
        @wraps(body)
        def command(**values):
            return body(flags_type(**values))

        del command.__wrapped__  # typer must read the signature below, not the body's
        command.__signature__ = inspect.Signature(parameters)
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        return command

    return wrap
