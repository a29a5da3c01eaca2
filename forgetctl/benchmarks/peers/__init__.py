"""The field's VLM-unlearning benchmarks read as distributed (FIUBench, MLLMU-Bench, UMU-Bench,
CLEAR), erased by forgetctl's engine and reported under their own metric names beside forgetctl's.

    items.py     what an importer yields: people, their photos and questions, the splits
    fiubench.py, mllmu.py, umu.py, clear.py   one importer per benchmark
    styles.py    how each benchmark asks and reads answers, what forgetctl cannot reproduce
    measure.py   the benchmark's metrics on one model
    run.py       erase a split and measure, before and after
    table.py     the tables a researcher puts beside the paper's
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from forgetctl.errors import InputError

FORMATS = ("fiubench", "mllmu", "umu", "clear")


def read_benchmark(format: str, data: Path):
    if format not in FORMATS:
        raise InputError(f"--format {format!r}: use one of {', '.join(FORMATS)}")
    return import_module(f"forgetctl.benchmarks.peers.{format}").read(data)
