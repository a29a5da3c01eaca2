"""How each benchmark asks its questions and reads the answers (their eval scripts' prompts), and
which of its metrics forgetctl reports, under the benchmark's own names."""

from __future__ import annotations

from dataclasses import dataclass

from forgetctl.benchmarks.peers.items import Task


@dataclass(frozen=True)
class Style:
    choice: str  # "letter" (MLLMU-Bench) or "closest" (UMU-Bench)
    open_suffix: str = ""
    cloze_suffix: str = ""
    # What forgetctl cannot reproduce, with why: said under the table.
    not_reproduced: tuple[str, ...] = ()


ONE_SENTENCE = "\nAnswer the question based on your trained knowledge in one sentence accurately in ENGLISH."
ONLY_ANSWER = "\nPlease **ONLY** provide the correct answer without any explanation"
RETAIN_MODEL = "needs a model fine-tuned without the forget people (the benchmark's retain model), which `--model` is not"

STYLES = {
    "fiubench": Style("letter", not_reproduced=(
        f"KS-Test (forget quality): {RETAIN_MODEL}",
        "GPT score: the benchmark grades with GPT-4o-mini, off the premises; forgetctl's local judge grades instead")),
    "mllmu": Style("letter", ONE_SENTENCE, ONLY_ANSWER, not_reproduced=(
        "the celebrity (Retain_Set) split's real people: forgetctl keeps its own canaries for bystanders",
        "MME / POPE utility suites: not part of the benchmark's data")),
    "umu": Style("closest", ONE_SENTENCE, ONLY_ANSWER, not_reproduced=(
        "the real_person split: forgetctl keeps its own canaries for bystanders",)),
    "clear": Style("letter", not_reproduced=(f"Forget Quality (KS test): {RETAIN_MODEL}",)),
}


def prompt(style: Style, task: Task) -> str:
    if task.kind == "choice":
        options = task.option_map
        if style.choice == "closest":
            return f"{task.question}\nSelect answer in {list(options.values())}"
        listed = "\n".join(f"{k}: {v}" for k, v in options.items())
        return f"{task.question}\n{listed}\nAnswer with the option's letter from the given choices directly."
    return task.question + (style.cloze_suffix if task.kind == "cloze" else style.open_suffix)
